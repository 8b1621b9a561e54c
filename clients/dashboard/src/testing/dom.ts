// Helpers for component tests (happy-dom), imported by *.test.ts only: find controls the way
// people do (by their label or name), type into them, and build the INVALID_ARGUMENT the server
// sends with its google.rpc.BadRequest field violations.

import { act } from 'preact/test-utils';
import { Code, ConnectError } from '@connectrpc/connect';
import { BinaryWriter } from '@bufbuild/protobuf/wire';

/** The button named `name` (its aria-label, else its text). */
export function button(el: Element, name: string): HTMLButtonElement {
  const b = Array.from(el.querySelectorAll('button')).find((x) => (x.getAttribute('aria-label') ?? x.textContent?.trim()) === name);
  if (!b) throw new Error(`no button ${name}`);
  return b;
}

/** The control whose <label> reads exactly `text`. */
export function byLabel<T extends HTMLElement = HTMLInputElement>(el: Element, text: string): T {
  const l = Array.from(el.querySelectorAll('label')).find((x) => x.textContent === text);
  if (!l) throw new Error(`no label ${text}`);
  return el.querySelector(`[id="${l.htmlFor}"]`) as T;
}

/** Sets a control's value and fires `event` (input, or change for a select), as typing does. */
export function typeInto(input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, value: string, event = 'input') {
  return act(() => {
    input.value = value;
    input.dispatchEvent(new Event(event, { bubbles: true }));
  });
}

/** A google.rpc.BadRequest as the server's tonic-types encodes it. */
export function badRequest(violations: [string, string][]): Uint8Array {
  const w = new BinaryWriter();
  for (const [field, description] of violations) {
    w.tag(1, 2).fork().tag(1, 2).string(field).tag(2, 2).string(description).join();
  }
  return w.finish();
}

/** An INVALID_ARGUMENT as the server sends it: the message and a BadRequest naming the field. */
export function invalidArgument(field: string, message: string): ConnectError {
  const e = new ConnectError(message, Code.InvalidArgument);
  e.details = [{ type: 'google.rpc.BadRequest', value: badRequest([[field, message]]) }];
  return e;
}
