// Spanish as spoken in Spain (Discord locale "es-ES"; "es-419" readers get it too), "tú".
import type { Catalog } from '../i18n.js';
import type { OutcomeKind } from '../../training/run-records.js';
import { quotedChars, seedChanges } from './format.js';

const more = (n: number) => ` y ${n} más`;
const chars = (list: readonly string[]) => quotedChars(list, 10, more, ', ');
const num = (n: number) => n.toLocaleString('es-ES');
const hex = (byte: number) => byte.toString(16).padStart(2, '0');

const outcomes: Record<OutcomeKind, string> = { published: 'publicado', stored: 'guardado', rejected: 'rechazado', failed: 'fallido', cancelled: 'cancelado' };

export const es: Catalog = {
  buttonAgain: () => 'Otra vez',
  buttonContinue: () => 'Continuar',
  buttonUnknown: () => 'Este botón ya no funciona; vuelve a usar el comando.',
  buttonNotPassage: () => 'Este mensaje ya no contiene un pasaje con el que trabajar.',
  continueTooLong: () => 'Este pasaje es demasiado largo para continuarlo aquí; usa Otra vez, o /shakespeare con sus últimas líneas como semilla.',
  seedChanged: (v) =>
    seedChanges(v, { changed: (p) => `cambiados ${p}`, dropped: (c) => `quitados ${c} (el modelo no los conoce)`, more, separator: '; ' }),
  seedNote: (v) => `Semilla ajustada: ${v.what}.`,
  shakespeareDescription: () => 'Escribe un texto al estilo de Shakespeare que empieza con tu semilla',
  versionGone: (v) => `${v.was} ya no está en servicio; esto lo escribió ${v.now}.`,
  nothingToContinue: () => 'Ese mensaje no tiene texto que pueda continuar.',
  continueMenu: () => 'Continuar como Shakespeare',
  writing: () => '*escribiendo…*',
  cutShort: (v) => `Cortado aquí; los ${v.chars} caracteres están en ${v.file}.`,
  adminOnly: (v) => `Solo los miembros que pueden gestionar este servidor pueden usar ${v.guarded}.`,
  guildOnly: (v) => `${v.guarded} solo funciona en un servidor.`,
  cooldown: (v) => `Acabas de pedirlo; vuelve a intentarlo en ${v.seconds} s.`,
  invalidRequest: (v) => `Solicitud no válida: ${v.detail}.`,
  busy: (v) => `El bardo está ocupado; vuelve a intentarlo en ${v.seconds} s.`,
  noModel: () => 'Todavía no hay ningún modelo cargado; vuelve a intentarlo en un minuto.',
  modelLoading: () => 'El modelo se está cargando; vuelve a intentarlo en unos segundos.',
  workerFailed: () => 'El generador falló mientras escribía esto; se ha reiniciado, vuelve a intentarlo.',
  refused: (v) => `Rechazado: ${v.detail}.`,
  genericFailure: () => 'Algo ha salido mal; ha quedado registrado.',
  restarting: () => 'El bot se está reiniciando; vuelve a intentarlo en un minuto.',
  unknownCommand: (v) => `Comando desconocido: /${v.command}.`,
  useSubcommand: (v) => `Usa ${v.choices.join(', ')}.`,
  noVersions: (v) => `Aún no hay versiones de ${v.model}.`,
  badVersionName: () => 'Las versiones se llaman como v3; /model versions las muestra.',
  unknownVersion: (v) => `No existe ${v.model} ${v.version}; /model versions muestra las versiones.`,
  rollbackFailed: (v) => `No se pudo cargar ${v.model} ${v.version}: ${v.detail}. Sigue en servicio: ${v.serving ?? 'ninguna versión'}.`,
  nowServing: (v) => `Ahora en servicio: ${v.model} ${v.version}${v.was ? ` (antes ${v.was})` : ''}.`,
  chartDescription: () => 'Pérdida de entrenamiento y de validación por época',
  retrainBusy: (v) => `No iniciado: ${v.detail}. /retrain status muestra su progreso.`,
  retrainWillReport: () => 'El resultado llegará aquí, o por MD si la ejecución dura más que este mensaje (15 minutos).',
  retrainIdle: (v) => `No hay ningún reentrenamiento en curso. El último: ${v.last}`,
  retrainNever: () => 'No hay ningún reentrenamiento en curso, y todavía no se ha hecho ninguno.',
  retrainNotRunning: () => 'No hay ningún reentrenamiento en curso.',
  retrainAlreadyOver: () => 'El reentrenamiento ya había terminado.',
  retrainEnded: (v) => `Reentrenamiento ${v.run}: ${outcomes[v.outcome]}.`,
  retrainStillRunning: (v) => `El reentrenamiento ${v.run} sigue en curso; las actualizaciones en directo terminan aquí (/retrain status lo muestra).`,
  seedName: () => 'semilla',
  seedOption: () => 'Texto con el que empieza el pasaje, p. ej. ROMEO:',
  lengthName: () => 'longitud',
  lengthOption: (v) => `Caracteres que escribir tras la semilla (por defecto ${v.default})`,
  temperatureName: () => 'temperatura',
  temperatureOption: (v) => `Aleatoriedad: baja es prudente, alta es salvaje (por defecto ${v.default})`,
  topKOption: () => 'Elegir solo entre los k caracteres más probables',
  topPOption: () => 'Elegir solo entre los caracteres más probables que suman esta probabilidad',
  modelDescription: () => 'Sobre el modelo que escribe el texto',
  modelInfoDescription: () => 'Versión, pérdida de validación, detalles del entrenamiento y una gráfica de la pérdida',
  modelVersionsDescription: () => '(admins) Muestra todas las versiones y cuál es la actual',
  modelRollbackDescription: () => '(admins) Pone otra versión en servicio ahora mismo',
  versionName: () => 'versión',
  versionOption: () => 'La versión que poner en servicio, p. ej. v2',
  retrainDescription: () => '(admins) Reentrena el modelo con el corpus actual y lo publica si es mejor',
  retrainStartDescription: () => 'Inicia un reentrenamiento ahora',
  epochsName: () => 'épocas',
  epochsOption: () => 'Épocas de entrenamiento (por defecto: según la configuración)',
  minutesName: () => 'minutos',
  minutesOption: () => 'Tiempo máximo en minutos (por defecto: según la configuración)',
  retrainStatusDescription: () => 'Progreso del reentrenamiento en curso, o cómo terminó el último',
  retrainCancelDescription: () => 'Detiene el reentrenamiento en curso; no se publica nada',
  // /corpus
  corpusAddDescription: () => 'Añade un archivo .txt UTF-8 al corpus; el próximo reentrenamiento lo usa',
  fileName: () => 'archivo',
  corpusFileOption: () => 'Un archivo .txt en UTF-8',
  nameName: () => 'nombre',
  corpusNameOption: () => 'Guardarlo con este nombre (por defecto: el del archivo)',
  corpusListDescription: () => 'Los archivos, sus tamaños y cuáles son nuevos desde que se entrenó la versión en servicio',
  corpusRemoveDescription: () => 'Quita un archivo del corpus (nunca el último)',
  corpusRemoveNameOption: () => 'El archivo, como lo muestra /corpus list',
  corpusDescription: () => '(admins) El texto con el que se reentrena el modelo',
  corpusNotTxt: (v) => `Solo se pueden añadir archivos .txt al corpus; ${v.name} no lo es.`,
  corpusTooLarge: (v) => `${v.name} ocupa más de ${v.limit}, el máximo que admite /corpus add; no se ha descargado nada más allá.`,
  corpusUnavailable: (v) => `No se pudo obtener ${v.name}: ${v.reason}. No se ha añadido nada.`,
  corpusBadName: (v) =>
    `${JSON.stringify(v.name)} no es un nombre que pueda guardar: letras, dígitos, «.», «-» y «_», terminado en .txt, sin un punto al principio, sin carpetas.`,
  corpusExists: (v) => `El corpus ya tiene ${v.name}; quítalo primero (/corpus remove) o añádelo con otro nombre.`,
  corpusMissing: (v) => `El corpus no tiene ningún archivo ${v.name}; /corpus list muestra sus archivos.`,
  corpusLastFile: (v) => `${v.name} es el único archivo del corpus, y un reentrenamiento necesita uno; añade otro antes de quitarlo.`,
  corpusNotUtf8: (v) =>
    `${v.name} no es texto UTF-8 (byte no válido 0x${hex(v.byte)} en la posición ${v.offset}): un archivo binario, o texto en otra codificación. Guárdalo como UTF-8 y vuelve a añadirlo.`,
  corpusBinary: (v) => `${v.name} es un archivo binario (contiene bytes NUL), no texto.`,
  corpusEmpty: (v) => `${v.name} no tiene texto.`,
  corpusAdded: (v) =>
    `${v.name} se ha añadido al corpus de ${v.model}: ${num(v.chars)} caracteres. El próximo reentrenamiento (por la noche, o con /retrain start) lo usará.`,
  corpusNewChars: (v) =>
    `${v.chars.length} ${v.chars.length === 1 ? 'carácter nuevo' : 'caracteres nuevos'} para el vocabulario de ${v.version}: ${chars(v.chars)}. El próximo reentrenamiento empieza desde cero (un vocabulario nuevo no puede partir del modelo anterior).`,
  corpusNoNewChars: (v) => `Todos sus caracteres están en el vocabulario de ${v.version}.`,
  corpusListHeader: (v) => `El corpus de ${v.model}: ${v.files} ${v.files === 1 ? 'archivo' : 'archivos'}, ${num(v.chars)} caracteres.`,
  corpusListFile: (v) =>
    `• ${v.name}: ${num(v.chars)} caracteres, ${v.size}${v.isNew ? ' (nuevo desde que se entrenó la versión en servicio)' : ''}${v.problem ? ` (${v.problem}: todos los reentrenamientos fallarán hasta que se arregle o se quite)` : ''}`,
  corpusListMore: (v) => `…y ${v.count} más.`,
  corpusNoFiles: (v) => `El corpus de ${v.model} no tiene archivos; añade uno con /corpus add.`,
  corpusUnchanged: (v) => `${v.version} (en servicio) se entrenó exactamente con estos archivos.`,
  corpusChanged: (v) => `El corpus ha cambiado desde que se entrenó ${v.version} (en servicio)${v.removed.length ? `; quitados desde entonces: ${v.removed.join(', ')}` : ''}.`,
  corpusRemoved: (v) => `${v.name} quitado; ${v.files === 1 ? 'queda 1 archivo' : `quedan ${v.files} archivos`}. El próximo reentrenamiento se hará sin él.`,
  corpusGoneChars: (v) =>
    `${v.chars.length} ${v.chars.length === 1 ? 'carácter' : 'caracteres'} del vocabulario de ${v.version} ya no ${v.chars.length === 1 ? 'aparece' : 'aparecen'} en el corpus: ${chars(v.chars)}. El próximo reentrenamiento empieza desde cero.`,
};
