// French (Discord locale "fr"), addressing the reader as "vous".
import type { Catalog } from '../i18n.js';
import type { OutcomeKind } from '../../training/run-records.js';
import { quotedChars, seedChanges } from './format.js';

const more = (n: number) => ` et ${n} autres`;
const chars = (list: readonly string[]) => quotedChars(list, 10, more, ', ');
const num = (n: number) => n.toLocaleString('fr-FR');
const hex = (byte: number) => byte.toString(16).padStart(2, '0');

const outcomes: Record<OutcomeKind, string> = { published: 'publié', stored: 'stocké', rejected: 'rejeté', failed: 'échoué', cancelled: 'annulé' };

export const fr: Catalog = {
  buttonAgain: () => 'Encore',
  buttonContinue: () => 'Continuer',
  buttonUnknown: () => 'Ce bouton ne fonctionne plus ; relancez la commande.',
  buttonNotPassage: () => 'Ce message ne contient plus de passage à reprendre.',
  continueTooLong: () => 'Ce passage est trop long pour être continué ici ; utilisez Encore, ou /shakespeare avec ses dernières lignes comme amorce.',
  seedChanged: (v) =>
    seedChanges(v, { changed: (p) => `remplacés ${p}`, dropped: (c) => `retirés ${c} (inconnus du modèle)`, more, separator: ' ; ' }),
  seedNote: (v) => `Amorce ajustée : ${v.what}.`,
  shakespeareDescription: () => 'Écrit un texte à la Shakespeare qui commence par votre amorce',
  versionGone: (v) => `${v.was} n’est plus servi ; ${v.now} a écrit ceci.`,
  nothingToContinue: () => 'Ce message n’a pas de texte que je puisse continuer.',
  continueMenu: () => 'Continuer en Shakespeare',
  writing: () => '*écriture…*',
  cutShort: (v) => `Coupé ici ; les ${v.chars} caractères sont dans ${v.file}.`,
  adminOnly: (v) => `Seuls les membres qui peuvent gérer ce serveur peuvent utiliser ${v.guarded}.`,
  guildOnly: (v) => `${v.guarded} ne fonctionne que sur un serveur.`,
  cooldown: (v) => `Vous venez de demander ; réessayez dans ${v.seconds} s.`,
  invalidRequest: (v) => `Requête invalide : ${v.detail}.`,
  busy: (v) => `Le barde est occupé ; réessayez dans ${v.seconds} s.`,
  noModel: () => 'Aucun modèle n’est encore chargé ; réessayez dans une minute.',
  modelLoading: () => 'Le modèle est en cours de chargement ; réessayez dans quelques secondes.',
  workerFailed: () => 'Le générateur a échoué pendant l’écriture ; il a redémarré, réessayez.',
  refused: (v) => `Refusé : ${v.detail}.`,
  genericFailure: () => 'Une erreur s’est produite ; elle a été consignée.',
  restarting: () => 'Le bot redémarre ; réessayez dans une minute.',
  unknownCommand: (v) => `Commande inconnue : /${v.command}.`,
  useSubcommand: (v) => `Utilisez ${v.choices.join(', ')}.`,
  noVersions: (v) => `Il n’y a encore aucune version de ${v.model}.`,
  badVersionName: () => 'Les versions s’appellent par exemple v3 ; /model versions les liste.',
  unknownVersion: (v) => `${v.model} ${v.version} n’existe pas ; /model versions liste les versions.`,
  rollbackFailed: (v) => `Impossible de charger ${v.model} ${v.version} : ${v.detail}. Toujours en service : ${v.serving ?? 'aucune version'}.`,
  nowServing: (v) => `${v.model} ${v.version} est maintenant en service${v.was ? ` (avant : ${v.was})` : ''}.`,
  chartDescription: () => 'Perte d’entraînement et de validation par époque',
  retrainBusy: (v) => `Non lancé : ${v.detail}. /retrain status en montre la progression.`,
  retrainWillReport: () => 'Le résultat suivra ici, ou par MP si l’exécution dure plus longtemps que ce message (15 minutes).',
  retrainIdle: (v) => `Aucun réentraînement en cours. Le dernier : ${v.last}`,
  retrainNever: () => 'Aucun réentraînement en cours, et aucun n’a encore eu lieu.',
  retrainNotRunning: () => 'Aucun réentraînement en cours.',
  retrainAlreadyOver: () => 'Le réentraînement était déjà terminé.',
  retrainEnded: (v) => `Réentraînement ${v.run} : ${outcomes[v.outcome]}.`,
  retrainStillRunning: (v) => `Le réentraînement ${v.run} est toujours en cours ; le suivi en direct s’arrête ici (/retrain status l’affiche).`,
  seedName: () => 'amorce',
  seedOption: () => 'Texte par lequel commence le passage, p. ex. ROMEO:',
  lengthName: () => 'longueur',
  lengthOption: (v) => `Caractères à écrire après l’amorce (par défaut ${v.default})`,
  temperatureName: () => 'température',
  temperatureOption: (v) => `Hasard : bas, c’est sage ; haut, c’est fou (par défaut ${v.default})`,
  topKOption: () => 'Tirer seulement parmi les k caractères les plus probables',
  topPOption: () => 'Tirer seulement parmi les caractères les plus probables qui couvrent cette probabilité',
  modelDescription: () => 'À propos du modèle qui écrit le texte',
  modelInfoDescription: () => 'Version, perte de validation, détails de l’entraînement et courbe de perte',
  modelVersionsDescription: () => '(admins) Liste toutes les versions et indique l’actuelle',
  modelRollbackDescription: () => '(admins) Met tout de suite une autre version en service',
  versionName: () => 'version',
  versionOption: () => 'La version à mettre en service, p. ex. v2',
  retrainDescription: () => '(admins) Réentraîne le modèle sur le corpus actuel et le publie s’il est meilleur',
  retrainStartDescription: () => 'Lance un réentraînement maintenant',
  epochsName: () => 'époques',
  epochsOption: () => 'Époques d’entraînement (par défaut : selon la configuration)',
  minutesName: () => 'minutes',
  minutesOption: () => 'Budget de temps en minutes (par défaut : selon la configuration)',
  retrainStatusDescription: () => 'Progression du réentraînement en cours, ou issue du dernier',
  retrainCancelDescription: () => 'Arrête le réentraînement en cours ; rien n’est publié',
  // /corpus
  corpusAddDescription: () => 'Ajoute un fichier .txt UTF-8 au corpus ; le prochain réentraînement l’utilise',
  fileName: () => 'fichier',
  corpusFileOption: () => 'Un fichier .txt, en UTF-8',
  nameName: () => 'nom',
  corpusNameOption: () => 'L’enregistrer sous ce nom (par défaut : celui du fichier)',
  corpusListDescription: () => 'Les fichiers, leur taille, et ceux ajoutés depuis l’entraînement de la version servie',
  corpusRemoveDescription: () => 'Retire un fichier du corpus (jamais le dernier)',
  corpusRemoveNameOption: () => 'Le fichier, tel que /corpus list l’affiche',
  corpusDescription: () => '(admins) Le texte sur lequel le modèle est réentraîné',
  corpusNotTxt: (v) => `Seuls des fichiers .txt peuvent être ajoutés au corpus ; ${v.name} n’en est pas un.`,
  corpusTooLarge: (v) => `${v.name} dépasse ${v.limit}, le maximum accepté par /corpus add ; rien n’a été téléchargé au-delà.`,
  corpusUnavailable: (v) => `Impossible de récupérer ${v.name} : ${v.reason}. Rien n’a été ajouté.`,
  corpusBadName: (v) =>
    `${JSON.stringify(v.name)} n’est pas un nom que je peux enregistrer : lettres, chiffres, « . », « - » et « _ », terminé par .txt, sans point au début, sans dossier.`,
  corpusExists: (v) => `Le corpus contient déjà ${v.name} ; supprimez-le d’abord (/corpus remove) ou ajoutez-le sous un autre nom.`,
  corpusMissing: (v) => `Le corpus n’a pas de fichier ${v.name} ; /corpus list affiche ses fichiers.`,
  corpusLastFile: (v) => `${v.name} est le seul fichier du corpus, et un réentraînement en a besoin ; ajoutez-en un autre avant de le supprimer.`,
  corpusNotUtf8: (v) =>
    `${v.name} n’est pas du texte UTF-8 (octet invalide 0x${hex(v.byte)} à la position ${v.offset}) : un fichier binaire, ou du texte dans un autre encodage. Enregistrez-le en UTF-8 et ajoutez-le à nouveau.`,
  corpusBinary: (v) => `${v.name} est un fichier binaire (il contient des octets NUL), pas du texte.`,
  corpusEmpty: (v) => `${v.name} ne contient aucun texte.`,
  corpusAdded: (v) =>
    `${v.name} a été ajouté au corpus de ${v.model} : ${num(v.chars)} caractères. Le prochain réentraînement (la nuit, ou /retrain start) l’utilisera.`,
  corpusNewChars: (v) =>
    `${v.chars.length} ${v.chars.length > 1 ? 'caractères nouveaux' : 'caractère nouveau'} pour le vocabulaire de ${v.version} : ${chars(v.chars)}. Le prochain réentraînement repart de zéro (un nouveau vocabulaire ne peut pas partir de l’ancien modèle).`,
  corpusNoNewChars: (v) => `Tous ses caractères sont dans le vocabulaire de ${v.version}.`,
  corpusListHeader: (v) => `Le corpus de ${v.model} : ${v.files} ${v.files > 1 ? 'fichiers' : 'fichier'}, ${num(v.chars)} caractères.`,
  corpusListFile: (v) =>
    `• ${v.name} : ${num(v.chars)} caractères, ${v.size}${v.isNew ? ' (nouveau depuis l’entraînement de la version en service)' : ''}${v.problem ? ` (${v.problem} : chaque réentraînement échouera tant qu’il ne sera pas corrigé ou supprimé)` : ''}`,
  corpusListMore: (v) => `…et ${v.count} autres.`,
  corpusNoFiles: (v) => `Le corpus de ${v.model} n’a aucun fichier ; ajoutez-en un avec /corpus add.`,
  corpusUnchanged: (v) => `${v.version} (en service) a été entraîné sur exactement ces fichiers.`,
  corpusChanged: (v) => `Le corpus a changé depuis l’entraînement de ${v.version} (en service)${v.removed.length ? ` ; supprimés depuis : ${v.removed.join(', ')}` : ''}.`,
  corpusRemoved: (v) => `${v.name} supprimé ; ${v.files > 1 ? `il reste ${v.files} fichiers` : `il reste ${v.files} fichier`}. Le prochain réentraînement se fera sans lui.`,
  corpusGoneChars: (v) =>
    `${v.chars.length} ${v.chars.length > 1 ? 'caractères' : 'caractère'} du vocabulaire de ${v.version} ${v.chars.length > 1 ? 'n’apparaissent' : 'n’apparaît'} plus dans le corpus : ${chars(v.chars)}. Le prochain réentraînement repart de zéro.`,
};
