import type { Strings } from '../i18n.js';

// French, "vous"; a no-break space before ":" and "?" as French typography wants.
export default {
  dir: 'ltr',
  close: 'Fermer la discussion',
  noticeArchive: 'Chiffrée de bout en bout : seuls les conseillers de cette organisation peuvent la lire.',
  noticeEphemeral:
    'Chiffrée de bout en bout et éphémère : aucun historique n’est conservé, pas même pour cette organisation.',
  reconnecting: 'Reconnexion…',
  offline: 'Vous êtes hors ligne. Les messages partiront dès le retour de la connexion.',
  missing: 'Des messages manquent peut-être : le relais ne les a pas tous transmis.',
  refused: 'Un message n’a pas pu être vérifié et n’est pas affiché.',
  unconfirmed:
    'Nous ne pouvons pas confirmer pour l’instant qui lirait ce chat, donc rien n’est envoyé. Veuillez réessayer plus tard.',
  messages: 'Messages',
  you: 'Vous',
  agent: 'Conseiller',
  sending: 'Envoi…',
  sent: 'Envoyé',
  delivered: 'Distribué',
  read: 'Lu',
  failed: 'Non envoyé',
  retry: 'Réessayer',
  message: 'Message',
  placeholder: 'Écrivez un message',
  send: 'Envoyer',
  typing: (name) => `${name} écrit…`,
  away: 'Personne n’est disponible pour le moment. Laissez un message, nous vous répondrons ici.',
  awayPlaceholder: 'Laissez un message',
  prechatTitle: 'Avant de commencer',
  name: 'Nom',
  email: 'E-mail',
  topic: 'Sujet',
  start: 'Démarrer la discussion',
  invalidEmail: 'Saisissez une adresse e-mail valide.',
  required: 'Ce champ est obligatoire.',
  // French puts 0 and 1 in the singular.
  masked: (count) =>
    count <= 1
      ? `${count} numéro de carte ou de compte a été masqué avant l’envoi.`
      : `${count} numéros de carte ou de compte ont été masqués avant l’envoi.`,
  more: 'Plus d’options',
  deleteConversation: 'Supprimer cette discussion',
  deleteConfirm: 'Supprimer définitivement cette discussion ? Elle sera effacée de ce navigateur et du relais.',
  confirmDelete: 'Supprimer',
  cancel: 'Annuler',
  deleted: 'Cette discussion a été supprimée.',
  transcript: 'Télécharger la transcription',
  noTranscript: 'Discussion éphémère : il n’y a aucune transcription à télécharger.',
  safetyCode: 'Code de sécurité',
  safetyHelp:
    'Demandez au conseiller de vous lire le code de sécurité qu’il voit. S’il est identique, personne ne s’est interposé.',
  soundOn: 'Activer le son',
  soundOff: 'Couper le son',
  newMessages: 'Nouveaux messages ↓',
} satisfies Strings;
