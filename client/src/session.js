// Sign-in: who is signed in (GET /api/session), a compact form that posts JSON to /api/session, and Sign out
// (DELETE). The session cookie is HttpOnly and SameSite=Strict: the page never sees it, it only learns the user.
// Whatever depends on the user subscribes and is told of every change, so features appear without a reload.
import { getJSON, sendJSON } from './api.js';
import { html, setHtml } from './html.js';

const ROLES = ['viewer', 'officer', 'gis', 'admin'];

export function roleAtLeast(user, role) {
  return Boolean(user) && ROLES.indexOf(user.role) >= ROLES.indexOf(role);
}

export class Session {
  constructor() {
    this.user = null;
    this.listeners = [];
  }

  subscribe(listener) {
    this.listeners.push(listener);
  }

  set(user) {
    const before = JSON.stringify(this.user);
    this.user = user || null;
    if (JSON.stringify(this.user) !== before) this.listeners.forEach((listener) => listener(this.user));
  }

  async check() {
    const answer = await getJSON('/api/session');
    this.set(answer.user);
    return this.user;
  }

  async signIn(username, password) {
    const answer = await sendJSON('POST', '/api/session', { username, password });
    this.set(answer.user);
    return this.user;
  }

  async signOut() {
    await sendJSON('DELETE', '/api/session');
    this.set(null);
  }

  // A 401 from any route means the session has ended (expired, signed out in another tab): find out who we are.
  expired(error) {
    if (error?.status === 401 && this.user) this.check().catch(() => this.set(null));
  }
}

// The control in the header bar: a "Sign in" button opening a small form, or the user, role and Sign out. Its own
// live region announces the outcome (the map's status line is busy with the layers that sign-in brings).
export function setupSignIn(container, session) {
  setHtml(container, html`
    <p class="visually-hidden account-status" role="status" aria-live="polite"></p>
    <button type="button" class="account-toggle" aria-expanded="false" aria-controls="signin-form">Sign in</button>
    <form id="signin-form" class="signin" hidden>
      <h2 class="visually-hidden">Sign in</h2>
      <label for="signin-username">Username</label>
      <input id="signin-username" name="username" autocomplete="username" required autocapitalize="none"
        spellcheck="false">
      <label for="signin-password">Password</label>
      <input id="signin-password" name="password" type="password" autocomplete="current-password" required>
      <p class="signin-error" role="alert"></p>
      <div class="row"><button type="submit" class="primary">Sign in</button>
        <button type="button" class="signin-cancel">Cancel</button></div>
    </form>
    <div class="account-user" hidden>
      <span class="account-name"></span>
      <button type="button" class="account-signout">Sign out</button>
    </div>`);
  const toggle = container.querySelector('.account-toggle');
  const form = container.querySelector('form');
  const error = form.querySelector('.signin-error');
  const userBox = container.querySelector('.account-user');
  const announce = (text) => { container.querySelector('.account-status').textContent = text; };
  const open = (shown) => {
    form.hidden = !shown;
    toggle.setAttribute('aria-expanded', String(shown));
    if (shown) {
      error.textContent = '';
      form.querySelector('#signin-username').focus();
    }
  };
  toggle.addEventListener('click', () => open(form.hidden));
  form.querySelector('.signin-cancel').addEventListener('click', () => { open(false); toggle.focus(); });
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') { event.stopPropagation(); open(false); toggle.focus(); }
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    error.textContent = '';
    try {
      const user = await session.signIn(form.username.value.trim(), form.password.value);
      form.reset();
      open(false);
      announce(`Signed in as ${user.username} (${user.role}).`);
      userBox.querySelector('.account-signout').focus();
    } catch (failure) {
      error.textContent = `Could not sign in: ${failure.message}.`;
      form.password.select();
    } finally {
      button.disabled = false;
    }
  });
  userBox.querySelector('.account-signout').addEventListener('click', async () => {
    try {
      await session.signOut();
      announce('Signed out.');
      toggle.focus();
    } catch (failure) {
      announce(`Could not sign out: ${failure.message}.`);
    }
  });
  const render = (user) => {
    container.dataset.user = user ? user.username : '';
    toggle.hidden = Boolean(user);
    if (user) form.hidden = true;
    userBox.hidden = !user;
    setHtml(userBox.querySelector('.account-name'), user ? html`<span class="visually-hidden">Signed in as </span><span
      class="account-username">${user.username}</span> <span class="role">${user.role}</span>` : html``);
    userBox.querySelector('.account-signout').title = user ? `Sign out ${user.username} (${user.role})` : '';
  };
  session.subscribe(render);
  render(session.user);
}
