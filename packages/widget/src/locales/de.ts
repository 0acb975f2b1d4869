import type { Strings } from '../i18n.js';

// German, formal "Sie" as in customer service.
export default {
  dir: 'ltr',
  close: 'Chat schließen',
  noticeArchive: 'Ende-zu-Ende-verschlüsselt: Nur die Mitarbeitenden dieser Organisation können den Chat lesen.',
  noticeEphemeral:
    'Ende-zu-Ende-verschlüsselt und flüchtig: Es wird kein Verlauf gespeichert, auch nicht für diese Organisation.',
  reconnecting: 'Verbindung wird wiederhergestellt…',
  offline: 'Sie sind offline. Nachrichten werden gesendet, sobald die Verbindung wieder steht.',
  missing: 'Einige Nachrichten fehlen möglicherweise: Der Relay-Server hat nicht alle zugestellt.',
  refused: 'Eine Nachricht konnte nicht geprüft werden und wird nicht angezeigt.',
  unconfirmed:
    'Wir können gerade nicht bestätigen, wer diesen Chat lesen würde, deshalb wird nichts gesendet. Bitte versuchen Sie es später erneut.',
  messages: 'Nachrichten',
  you: 'Sie',
  agent: 'Support',
  sending: 'Wird gesendet…',
  sent: 'Gesendet',
  delivered: 'Zugestellt',
  read: 'Gelesen',
  failed: 'Nicht gesendet',
  retry: 'Erneut versuchen',
  message: 'Nachricht',
  placeholder: 'Nachricht eingeben',
  send: 'Senden',
  typing: (name) => `${name} schreibt…`,
  away: 'Gerade ist niemand erreichbar. Hinterlassen Sie eine Nachricht, wir antworten hier.',
  awayPlaceholder: 'Nachricht hinterlassen',
  prechatTitle: 'Bevor es losgeht',
  name: 'Name',
  email: 'E-Mail',
  topic: 'Thema',
  start: 'Chat starten',
  invalidEmail: 'Geben Sie eine gültige E-Mail-Adresse ein.',
  required: 'Dieses Feld ist erforderlich.',
  masked: (count) =>
    count === 1
      ? 'Eine Karten- oder Kontonummer wurde vor dem Senden unkenntlich gemacht.'
      : `${count} Karten- oder Kontonummern wurden vor dem Senden unkenntlich gemacht.`,
  more: 'Weitere Optionen',
  deleteConversation: 'Diese Unterhaltung löschen',
  deleteConfirm: 'Diese Unterhaltung endgültig löschen? Sie wird aus diesem Browser und vom Relay-Server gelöscht.',
  confirmDelete: 'Löschen',
  cancel: 'Abbrechen',
  deleted: 'Diese Unterhaltung wurde gelöscht.',
  transcript: 'Verlauf herunterladen',
  noTranscript: 'Flüchtiger Chat: Es gibt keinen Verlauf zum Herunterladen.',
  safetyCode: 'Sicherheitscode',
  safetyHelp:
    'Bitten Sie Ihr Gegenüber, den Sicherheitscode vorzulesen, der dort angezeigt wird. Stimmt er überein, hört niemand mit.',
  soundOn: 'Ton einschalten',
  soundOff: 'Ton ausschalten',
  newMessages: 'Neue Nachrichten ↓',
} satisfies Strings;
