// The shell: sign-in, the header (navigation, theme, sign-out, the sessions panel's toggle) and the pages.

import { useState } from 'preact/hooks';
import { html } from './util.js';
import { ChatPage } from './chat.js';
import { SkillsPage, ExpertsPage, ToolsPage, KeysPage } from './manage.js';

/**
 * @typedef {import('../main.js').App} App
 * @typedef {import('../main.js').Actions} Actions
 */

/** @param {{ app: App, actions: Actions }} p */
export function Root({ app, actions }) {
  return html`<div class="app">
    <a class="skip-link" href="#main" onClick=${(/** @type {Event} */ e) => {
      e.preventDefault();
      document.getElementById('main')?.focus();
    }}>Skip to content</a>
    ${app.me ? html`<${Shell} app=${app} actions=${actions} />` : html`<${SignIn} app=${app} actions=${actions} />`}
    <div class="sr-only" role="status" aria-live="polite" aria-atomic="true" data-testid="live-region">${app.announce.text}</div>
  </div>`;
}

/** @param {{ app: App, actions: Actions }} p */
function SignIn({ app, actions }) {
  const [key, setKey] = useState('');
  return html`<main class="signin" id="main" tabindex="-1">
    <form class="card signin-card" data-testid="signin-form" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      if (key.trim()) actions.signIn(key.trim());
    }}>
      <h1><span class="logo" aria-hidden="true"></span> Conclave</h1>
      <p class="muted">Sign in with an API key. It is kept in this tab only (session storage) and cleared when you sign out.</p>
      <label for="api-key">API key</label>
      <input id="api-key" data-testid="api-key" type="password" autocomplete="off" spellcheck="false" required autofocus
        value=${key} onInput=${(/** @type {any} */ e) => setKey(e.currentTarget.value)} aria-describedby="signin-error" />
      <p id="signin-error" class="error-text" role="alert" data-testid="signin-error">${app.signInError ?? ''}</p>
      <button type="submit" class="button primary full" data-testid="signin-submit" disabled=${app.signingIn || !key.trim()}>
        ${app.signingIn ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
    <${ThemeToggle} app=${app} actions=${actions} />
  </main>`;
}

/** @param {{ app: App, actions: Actions }} p */
function ThemeToggle({ app, actions }) {
  const dark = app.theme === 'dark';
  return html`<button type="button" class="button theme-toggle" data-testid="theme-toggle" aria-pressed=${String(dark)}
    data-theme=${app.theme} onClick=${() => actions.toggleTheme()}>Dark mode</button>`;
}

/** @param {{ app: App, actions: Actions }} p */
function Shell({ app, actions }) {
  const page = app.route.page;
  const me = /** @type {NonNullable<App['me']>} */ (app.me);
  const nav = [
    ['chat', 'Chat', app.route.sessionId ? `#/s/${app.route.sessionId}` : '#/'],
    ['skills', 'Skills', '#/skills'],
    ['experts', 'Experts', '#/experts'],
    ['tools', 'Tools', '#/tools'],
    ...(me.is_admin ? [['keys', 'API keys', '#/keys']] : []),
  ];
  return html`<div class="shell">
    <header class="topbar">
      ${page === 'chat' &&
      html`<button type="button" class="button sessions-toggle" data-testid="sessions-toggle" aria-controls="sessions-panel"
        aria-expanded=${String(app.sidebarOpen)} onClick=${() => actions.toggleSidebar()}>Sessions</button>`}
      <span class="brand"><span class="logo" aria-hidden="true"></span><span class="brand-name">Conclave</span></span>
      <nav aria-label="Main" class="nav">
        ${nav.map(([id, label, href]) => html`<a href=${href} class="nav-link" data-testid=${`nav-${id}`} aria-current=${page === id ? 'page' : undefined}>${label}</a>`)}
      </nav>
      <span class="topbar-right">
        <span class="whoami muted small-text" data-testid="whoami" title=${me.tenant_id}>${me.name ?? me.tenant_id}${me.is_admin ? ' (admin)' : ''}</span>
        <${ThemeToggle} app=${app} actions=${actions} />
        <button type="button" class="button" data-testid="signout" onClick=${() => actions.signOut()}>Sign out</button>
      </span>
    </header>
    ${page === 'chat' && html`<${ChatPage} app=${app} actions=${actions} />`}
    ${page !== 'chat' &&
    html`<main class="page-main" id="main" tabindex="-1">
      ${page === 'skills' && html`<${SkillsPage} api=${app.api} />`}
      ${page === 'experts' && html`<${ExpertsPage} api=${app.api} />`}
      ${page === 'tools' && html`<${ToolsPage} api=${app.api} />`}
      ${page === 'keys' && (me.is_admin ? html`<${KeysPage} api=${app.api} />` : html`<p>Only the admin key manages API keys.</p>`)}
      ${page === 'notfound' && html`<p>There is no such page. <a href="#/">Back to the chat</a>.</p>`}
    </main>`}
  </div>`;
}
