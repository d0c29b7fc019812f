// German (Discord locale "de"), informal "du" as Discord itself uses.
import type { Catalog } from '../i18n.js';
import type { OutcomeKind } from '../../training/run-records.js';
import { quotedChars, seedChanges } from './format.js';

const more = (n: number) => ` und ${n} weitere`;
const chars = (list: readonly string[]) => quotedChars(list, 10, more, ', ');
const num = (n: number) => n.toLocaleString('de-DE');
const hex = (byte: number) => byte.toString(16).padStart(2, '0');

const outcomes: Record<OutcomeKind, string> = { published: 'veröffentlicht', stored: 'gespeichert', rejected: 'abgelehnt', failed: 'fehlgeschlagen', cancelled: 'abgebrochen' };

export const de: Catalog = {
  buttonAgain: () => 'Noch einmal',
  buttonContinue: () => 'Weiter',
  buttonUnknown: () => 'Diese Schaltfläche funktioniert nicht mehr; starte den Befehl neu.',
  buttonNotPassage: () => 'Diese Nachricht enthält keine Passage mehr, mit der ich arbeiten kann.',
  continueTooLong: () => 'Diese Passage ist zu lang, um sie hier fortzusetzen; nimm „Noch einmal“ oder /shakespeare mit ihren letzten Zeilen als Anfang.',
  seedChanged: (v) =>
    seedChanges(v, { changed: (p) => `geändert ${p}`, dropped: (c) => `entfernt ${c} (dem Modell unbekannt)`, more, separator: '; ' }),
  seedNote: (v) => `Anfang angepasst: ${v.what}.`,
  shakespeareDescription: () => 'Schreibt Text wie Shakespeare, der mit deinem Anfang beginnt',
  versionGone: (v) => `${v.was} wird nicht mehr bereitgestellt; ${v.now} hat dies geschrieben.`,
  nothingToContinue: () => 'Diese Nachricht hat keinen Text, den ich fortsetzen kann.',
  continueMenu: () => 'Als Shakespeare fortsetzen',
  writing: () => '*schreibt…*',
  cutShort: (v) => `Hier gekürzt; alle ${v.chars} Zeichen stehen in ${v.file}.`,
  adminOnly: (v) => `Nur Mitglieder, die diesen Server verwalten dürfen, können ${v.guarded} verwenden.`,
  guildOnly: (v) => `${v.guarded} funktioniert nur auf einem Server.`,
  cooldown: (v) => `Du hast gerade erst gefragt; versuch es in ${v.seconds} s noch einmal.`,
  invalidRequest: (v) => `Ungültige Anfrage: ${v.detail}.`,
  busy: (v) => `Der Barde ist beschäftigt; versuch es in ${v.seconds} s noch einmal.`,
  noModel: () => 'Noch ist kein Modell geladen; versuch es in einer Minute noch einmal.',
  modelLoading: () => 'Das Modell wird gerade geladen; versuch es in ein paar Sekunden noch einmal.',
  workerFailed: () => 'Der Generator ist beim Schreiben ausgefallen und wurde neu gestartet; versuch es noch einmal.',
  refused: (v) => `Abgelehnt: ${v.detail}.`,
  genericFailure: () => 'Etwas ist schiefgelaufen; der Fehler wurde protokolliert.',
  restarting: () => 'Der Bot startet neu; versuch es in einer Minute noch einmal.',
  unknownCommand: (v) => `Unbekannter Befehl /${v.command}.`,
  useSubcommand: (v) => `Verwende ${v.choices.join(', ')}.`,
  noVersions: (v) => `Von ${v.model} gibt es noch keine Versionen.`,
  badVersionName: () => 'Versionen heißen z. B. v3; /model versions listet sie auf.',
  unknownVersion: (v) => `${v.model} ${v.version} gibt es nicht; /model versions listet die Versionen auf.`,
  rollbackFailed: (v) => `${v.model} ${v.version} ließ sich nicht laden: ${v.detail}. Weiterhin im Einsatz: ${v.serving ?? 'keine Version'}.`,
  nowServing: (v) => `Jetzt im Einsatz: ${v.model} ${v.version}${v.was ? ` (vorher ${v.was})` : ''}.`,
  chartDescription: () => 'Trainings- und Validierungsverlust pro Epoche',
  retrainBusy: (v) => `Nicht gestartet: ${v.detail}. /retrain status zeigt den Fortschritt.`,
  retrainWillReport: () => 'Das Ergebnis folgt hier oder per DM, falls der Lauf länger dauert als diese Nachricht (15 Minuten).',
  retrainIdle: (v) => `Es läuft kein Retraining. Das letzte: ${v.last}`,
  retrainNever: () => 'Es läuft kein Retraining, und bisher gab es keins.',
  retrainNotRunning: () => 'Es läuft kein Retraining.',
  retrainAlreadyOver: () => 'Das Retraining war schon beendet.',
  retrainEnded: (v) => `Retraining ${v.run}: ${outcomes[v.outcome]}.`,
  retrainStillRunning: (v) => `Retraining ${v.run} läuft noch; die Live-Anzeige endet hier (/retrain status zeigt den Stand).`,
  seedName: () => 'anfang',
  seedOption: () => 'Text, mit dem die Passage beginnt, z. B. ROMEO:',
  lengthName: () => 'länge',
  lengthOption: (v) => `Zeichen, die nach dem Anfang geschrieben werden (Standard ${v.default})`,
  temperatureName: () => 'temperatur',
  temperatureOption: (v) => `Zufall: niedrig ist brav, hoch ist wild (Standard ${v.default})`,
  topKOption: () => 'Nur aus den k wahrscheinlichsten Zeichen wählen',
  topPOption: () => 'Nur aus den wahrscheinlichsten Zeichen wählen, die zusammen diese Wahrscheinlichkeit erreichen',
  modelDescription: () => 'Über das Modell, das die Texte schreibt',
  modelInfoDescription: () => 'Version, Validierungsverlust, Trainingsdetails und ein Verlaufsdiagramm',
  modelVersionsDescription: () => '(Admins) Listet alle Versionen auf und zeigt, welche aktuell ist',
  modelRollbackDescription: () => '(Admins) Setzt sofort eine andere Version ein',
  versionName: () => 'version',
  versionOption: () => 'Die Version, die eingesetzt werden soll, z. B. v2',
  retrainDescription: () => '(Admins) Trainiert das Modell mit dem aktuellen Korpus neu und veröffentlicht es, falls besser',
  retrainStartDescription: () => 'Startet jetzt ein Retraining',
  epochsName: () => 'epochen',
  epochsOption: () => 'Zu trainierende Epochen (Standard: laut Konfiguration)',
  minutesName: () => 'minuten',
  minutesOption: () => 'Zeitbudget in Minuten (Standard: laut Konfiguration)',
  retrainStatusDescription: () => 'Fortschritt des laufenden Retrainings, oder wie das letzte endete',
  retrainCancelDescription: () => 'Bricht das laufende Retraining ab; nichts wird veröffentlicht',
  // /corpus
  corpusAddDescription: () => 'Fügt dem Korpus eine UTF-8-.txt-Datei hinzu; das nächste Retraining lernt damit',
  fileName: () => 'datei',
  corpusFileOption: () => 'Eine .txt-Datei in UTF-8',
  nameName: () => 'name',
  corpusNameOption: () => 'Unter diesem Namen speichern (Standard: der Name der Datei)',
  corpusListDescription: () => 'Die Dateien, ihre Größen und welche seit dem Training der aktiven Version neu sind',
  corpusRemoveDescription: () => 'Entfernt eine Datei aus dem Korpus (nie die letzte)',
  corpusRemoveNameOption: () => 'Die Datei, wie /corpus list sie zeigt',
  corpusDescription: () => '(Admins) Der Text, mit dem das Modell neu trainiert wird',
  corpusNotTxt: (v) => `Nur .txt-Dateien können zum Korpus hinzugefügt werden; ${v.name} ist keine.`,
  corpusTooLarge: (v) => `${v.name} ist größer als ${v.limit}, das Maximum für /corpus add; darüber hinaus wurde nichts heruntergeladen.`,
  corpusUnavailable: (v) => `${v.name} ließ sich nicht abrufen: ${v.reason}. Es wurde nichts hinzugefügt.`,
  corpusBadName: (v) =>
    `${JSON.stringify(v.name)} ist kein Name, den ich speichern kann: Buchstaben, Ziffern, „.“, „-“ und „_“, mit .txt am Ende, ohne Punkt am Anfang, ohne Ordner.`,
  corpusExists: (v) => `Das Korpus enthält ${v.name} schon; entferne die Datei zuerst (/corpus remove) oder füge sie unter einem anderen Namen hinzu.`,
  corpusMissing: (v) => `Das Korpus hat keine Datei ${v.name}; /corpus list zeigt seine Dateien.`,
  corpusLastFile: (v) => `${v.name} ist die einzige Datei des Korpus, und ein Retraining braucht eine; füge eine weitere hinzu, bevor du sie entfernst.`,
  corpusNotUtf8: (v) =>
    `${v.name} ist kein UTF-8-Text (ungültiges Byte 0x${hex(v.byte)} an Byte-Position ${v.offset}): eine Binärdatei oder Text in einer anderen Kodierung. Speichere sie als UTF-8 und füge sie erneut hinzu.`,
  corpusBinary: (v) => `${v.name} ist eine Binärdatei (sie enthält NUL-Bytes), kein Text.`,
  corpusEmpty: (v) => `${v.name} enthält keinen Text.`,
  corpusAdded: (v) =>
    `${v.name} wurde zum Korpus von ${v.model} hinzugefügt: ${num(v.chars)} Zeichen. Das nächste Retraining (nachts oder mit /retrain start) trainiert damit.`,
  corpusNewChars: (v) =>
    `${v.chars.length} Zeichen neu im Vokabular von ${v.version}: ${chars(v.chars)}. Das nächste Retraining beginnt von vorn (ein neues Vokabular kann nicht auf dem alten Modell aufbauen).`,
  corpusNoNewChars: (v) => `Jedes Zeichen darin ist im Vokabular von ${v.version}.`,
  corpusListHeader: (v) => `Das Korpus von ${v.model}: ${v.files} ${v.files === 1 ? 'Datei' : 'Dateien'}, ${num(v.chars)} Zeichen.`,
  corpusListFile: (v) =>
    `• ${v.name}: ${num(v.chars)} Zeichen, ${v.size}${v.isNew ? ' (neu seit dem Training der eingesetzten Version)' : ''}${v.problem ? ` (${v.problem}: jedes Retraining scheitert, bis sie repariert oder entfernt ist)` : ''}`,
  corpusListMore: (v) => `…und ${v.count} weitere.`,
  corpusNoFiles: (v) => `Das Korpus von ${v.model} hat keine Dateien; füge mit /corpus add eine hinzu.`,
  corpusUnchanged: (v) => `${v.version} (im Einsatz) wurde mit genau diesen Dateien trainiert.`,
  corpusChanged: (v) => `Das Korpus hat sich geändert, seit ${v.version} (im Einsatz) trainiert wurde${v.removed.length ? `; seitdem entfernt: ${v.removed.join(', ')}` : ''}.`,
  corpusRemoved: (v) => `${v.name} wurde entfernt; ${v.files} ${v.files === 1 ? 'Datei' : 'Dateien'} übrig. Das nächste Retraining trainiert ohne sie.`,
  corpusGoneChars: (v) =>
    `${v.chars.length} Zeichen aus dem Vokabular von ${v.version} ${v.chars.length === 1 ? 'kommt' : 'kommen'} im Korpus nicht mehr vor: ${chars(v.chars)}. Das nächste Retraining beginnt von vorn.`,
};
