import { render } from 'preact';
import { App } from './App';
// In cascade order: variables and layout, page parts, forms, widgets, then page-specific rules.
import './styles/base.css';
import './styles/parts.css';
import './styles/forms.css';
import './styles/widgets.css';
import './styles/config.css';

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
