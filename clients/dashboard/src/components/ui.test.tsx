// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { render, type ComponentChild } from 'preact';
import { act } from 'preact/test-utils';
import { AsyncView, Bar, Pager, Switch, usePager } from './ui';

let root: HTMLElement;
function mount(node: ComponentChild) {
  root = document.createElement('div');
  document.body.appendChild(root);
  act(() => render(node, root));
  return root;
}
afterEach(() => {
  act(() => render(null, root));
  root.remove();
});

describe('AsyncView', () => {
  const state = (over: object) => ({ data: undefined, error: undefined, loading: true, reload: vi.fn(), ...over });
  it('shows loading, then the error with a retry, then the content', () => {
    const el = mount(<AsyncView state={state({})}>{(d: string) => <p>{d}</p>}</AsyncView>);
    expect(el.querySelector('[role=status]')?.textContent).toContain('Loading');

    const reload = vi.fn();
    act(() => render(<AsyncView state={state({ loading: false, error: 'boom', reload })}>{(d: string) => <p>{d}</p>}</AsyncView>, root));
    expect(el.querySelector('[role=alert]')?.textContent).toContain('boom');
    act(() => (el.querySelector('button') as HTMLButtonElement).click());
    expect(reload).toHaveBeenCalledOnce();

    act(() => render(<AsyncView state={state({ loading: false, data: 'hello' })}>{(d: string) => <p>{d}</p>}</AsyncView>, root));
    expect(el.textContent).toBe('hello');
  });
  it('keeps the data and says a refresh failed', () => {
    const el = mount(<AsyncView state={state({ loading: false, data: 'kept', error: 'offline' })}>{(d: string) => <p>{d}</p>}</AsyncView>);
    expect(el.textContent).toContain('kept');
    expect(el.querySelector('[role=alert]')?.textContent).toContain('Refresh failed: offline');
  });
});

function PagerHarness({ tokens }: { tokens: Record<string, string> }) {
  const pager = usePager();
  return (
    <div>
      <output>{pager.token || 'first'}</output>
      <Pager pager={pager} nextToken={tokens[pager.token]} />
    </div>
  );
}

describe('Pager', () => {
  it('walks forward with page tokens and back with the stack', () => {
    const el = mount(<PagerHarness tokens={{ '': 't2', t2: 't3' }} />);
    const [prev, next] = Array.from(el.querySelectorAll('button'));
    const out = () => el.querySelector('output')?.textContent;
    expect(prev.disabled).toBe(true);
    act(() => next.click());
    expect(out()).toBe('t2');
    act(() => next.click());
    expect(out()).toBe('t3');
    expect(next.disabled).toBe(true);
    expect(el.textContent).toContain('Page 3');
    act(() => prev.click());
    expect(out()).toBe('t2');
  });
});

describe('Switch and Bar', () => {
  it('is a labelled switch that reports changes', () => {
    const onChange = vi.fn();
    const el = mount(<Switch label="VIP" checked={false} onChange={onChange} />);
    const input = el.querySelector('input[role=switch]') as HTMLInputElement;
    expect(el.querySelector(`label[for="${input.id}"]`)?.textContent).toBe('VIP');
    act(() => input.click());
    expect(onChange).toHaveBeenCalledWith(true);
  });
  it('sets the bar width through the CSSOM, never a style attribute in markup', () => {
    const el = mount(<Bar label="Weekly" percent={142} />);
    const meter = el.querySelector('[role=meter]') as HTMLElement;
    expect(meter.getAttribute('aria-valuenow')).toBe('100');
    const fill = meter.firstElementChild as HTMLElement;
    expect(fill.style.width).toBe('100%');
    expect(fill.className).toContain('bad');
  });
});
