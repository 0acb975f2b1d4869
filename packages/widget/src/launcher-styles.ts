/**
 * The launcher's look, as plain CSS text: the launcher ships without Lit, so it stays a few KB.
 * The :host guard keeps host-page rules (`div:empty{display:none}`, resets) from hiding it.
 */
export const launcherCss = `
:host {
  all: initial;
  display: block !important;
  position: fixed;
  z-index: var(--sealchat-z-index, 2147483000);
  bottom: var(--sealchat-offset, 20px);
  right: var(--sealchat-offset, 20px);
  font: 15px/1.4 var(--sealchat-font, system-ui, sans-serif);
  color: var(--sealchat-text, #1c1c1e);
}
:host([hidden]) { display: none !important; }
:host([position='bottom-left']) { right: auto; left: var(--sealchat-offset, 20px); }
:host([position='bottom-left']) .launcher { margin-inline-start: 0; }
@media (max-width: 480px) {
  :host([open]) { inset: 0; }
  :host([open]) .launcher { display: none; }
}
.launcher {
  display: block;
  margin-inline-start: auto;
  border: 0;
  border-radius: 999px;
  padding: 12px 18px;
  background: var(--sealchat-accent, #1f5eff);
  color: #fff;
  font: 15px/1.4 var(--sealchat-font, system-ui, sans-serif);
  cursor: pointer;
  box-shadow: 0 4px 16px rgb(0 0 0 / 0.2);
}
.badge {
  display: inline-block;
  min-inline-size: 1.4em;
  margin-inline-start: 4px;
  padding: 0 5px;
  border-radius: 999px;
  background: #fff;
  color: var(--sealchat-accent, #1f5eff);
  font-size: 12px;
  font-weight: 700;
  text-align: center;
}
.load-error {
  margin: 0 0 8px;
  padding: 8px 12px;
  border-radius: 8px;
  background: #fff;
  color: #b00020;
}
`;
