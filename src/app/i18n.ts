// Every user-facing string the interactive features add, in one typed
// catalog: English is the reference, and each entry is a function of exactly
// the values it needs, so a translation cannot drop or misname one. Picked by
// the Discord locale of the interaction; English where there is none.
import { listCharacters } from '../ml/vocab.js';

const en = {
  buttonAgain: () => 'Again',
  buttonContinue: () => 'Continue',
  buttonUnknown: () => 'This button no longer works; run the command again.',
  buttonNotPassage: () => 'This message no longer holds a passage to work from.',
  continueTooLong: () => 'This passage is too long to continue here; use Again, or /shakespeare with its last lines as the seed.',
  seedChanged: (v: { replaced: { from: string; to: string }[]; dropped: string[] }) =>
    [
      v.replaced.length ? `changed ${v.replaced.map((r) => `${JSON.stringify(r.from)}→${JSON.stringify(r.to)}`).slice(0, 5).join(' ')}${v.replaced.length > 5 ? ' …' : ''}` : '',
      v.dropped.length ? `dropped ${listCharacters(v.dropped, ' ', 5)} (unknown to the model)` : '',
    ]
      .filter(Boolean)
      .join('; '),
  seedNote: (v: { what: string }) => `Seed adjusted: ${v.what}.`,
  shakespeareDescription: () => 'Write Shakespeare-like text that starts with your seed',
  versionGone: (v: { was: string; now: string }) => `${v.was} is no longer served; ${v.now} wrote this.`,
  nothingToContinue: () => 'That message has no text I can continue.',
  continueMenu: () => 'Continue as Shakespeare',
  writing: () => '*writing…*',
};

type Catalog = typeof en;
export type TextKey = keyof Catalog;

/** Translations; a missing entry falls back to English. */
const translations: Readonly<Record<Locale, Partial<Catalog>>> = {
  de: {
    shakespeareDescription: () => 'Schreibt Text wie Shakespeare, der mit deinem Anfang beginnt',
    buttonAgain: () => 'Noch einmal',
    buttonContinue: () => 'Weiter',
    buttonUnknown: () => 'Diese Schaltfläche funktioniert nicht mehr; starte den Befehl neu.',
    nothingToContinue: () => 'Diese Nachricht hat keinen Text, den ich fortsetzen kann.',
    continueMenu: () => 'Als Shakespeare fortsetzen',
    writing: () => '*schreibt…*',
    versionGone: (v) => `${v.was} wird nicht mehr bereitgestellt; ${v.now} hat dies geschrieben.`,
  },
  fr: {
    shakespeareDescription: () => 'Écrit un texte à la Shakespeare qui commence par votre amorce',
    buttonAgain: () => 'Encore',
    buttonContinue: () => 'Continuer',
    buttonUnknown: () => 'Ce bouton ne fonctionne plus ; relancez la commande.',
    nothingToContinue: () => 'Ce message n’a pas de texte que je puisse continuer.',
    continueMenu: () => 'Continuer en Shakespeare',
    writing: () => '*écriture…*',
    versionGone: (v) => `${v.was} n’est plus servi ; ${v.now} a écrit ceci.`,
  },
  'es-ES': {
    shakespeareDescription: () => 'Escribe un texto al estilo de Shakespeare que empieza con tu semilla',
    buttonAgain: () => 'Otra vez',
    buttonContinue: () => 'Continuar',
    buttonUnknown: () => 'Este botón ya no funciona; vuelve a usar el comando.',
    nothingToContinue: () => 'Ese mensaje no tiene texto que pueda continuar.',
    continueMenu: () => 'Continuar como Shakespeare',
    writing: () => '*escribiendo…*',
    versionGone: (v) => `${v.was} ya no está en servicio; esto lo escribió ${v.now}.`,
  },
  'pt-BR': {
    shakespeareDescription: () => 'Escreve um texto no estilo de Shakespeare que começa com a sua semente',
    buttonAgain: () => 'De novo',
    buttonContinue: () => 'Continuar',
    buttonUnknown: () => 'Este botão não funciona mais; use o comando de novo.',
    nothingToContinue: () => 'Essa mensagem não tem texto que eu possa continuar.',
    continueMenu: () => 'Continuar como Shakespeare',
    writing: () => '*escrevendo…*',
    versionGone: (v) => `${v.was} não está mais em uso; ${v.now} escreveu isto.`,
  },
  ja: {
    shakespeareDescription: () => 'あなたの書き出しから始まるシェイクスピア風の文章を書きます',
    buttonAgain: () => 'もう一度',
    buttonContinue: () => '続ける',
    buttonUnknown: () => 'このボタンはもう使えません。コマンドをもう一度実行してください。',
    nothingToContinue: () => 'このメッセージには続けられるテキストがありません。',
    continueMenu: () => 'シェイクスピア風に続ける',
    writing: () => '*執筆中…*',
    versionGone: (v) => `${v.was} は提供終了です。${v.now} が書きました。`,
  },
};

/** The locales with translations (Discord's names). */
export const LOCALES = ['de', 'fr', 'es-ES', 'pt-BR', 'ja'] as const;
type Locale = (typeof LOCALES)[number];

/** `key` in every translated locale, for Discord's name_localizations / description_localizations. */
export function localizations(key: { [K in TextKey]: Parameters<Catalog[K]> extends [] ? K : never }[TextKey]): Partial<Record<Locale, string>> {
  return Object.fromEntries(LOCALES.flatMap((l) => (translations[l][key] ? [[l, text(l, key)]] : [])));
}

/** The catalog entry `key` in `locale` (Discord names: "de", "es-ES", "pt-BR", "ja"), else in English. */
export function text<K extends TextKey>(locale: string, key: K, ...vars: Parameters<Catalog[K]>): string {
  const table = translations as Readonly<Record<string, Partial<Catalog> | undefined>>;
  const entry = (table[locale]?.[key] ?? table[locale.split('-')[0]]?.[key] ?? en[key]) as (...a: Parameters<Catalog[K]>) => string;
  return entry(...vars);
}
