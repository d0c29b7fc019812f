// Brazilian Portuguese (Discord locale "pt-BR"), "você".
import type { Catalog } from '../i18n.js';
import type { OutcomeKind } from '../../training/run-records.js';
import { quotedChars, seedChanges } from './format.js';

const more = (n: number) => ` e mais ${n}`;
const chars = (list: readonly string[]) => quotedChars(list, 10, more, ', ');
const num = (n: number) => n.toLocaleString('pt-BR');
const hex = (byte: number) => byte.toString(16).padStart(2, '0');

const outcomes: Record<OutcomeKind, string> = { published: 'publicado', stored: 'guardado', rejected: 'rejeitado', failed: 'com falha', cancelled: 'cancelado' };

export const pt: Catalog = {
  buttonAgain: () => 'De novo',
  buttonContinue: () => 'Continuar',
  buttonUnknown: () => 'Este botão não funciona mais; use o comando de novo.',
  buttonNotPassage: () => 'Esta mensagem não tem mais um trecho para usar.',
  continueTooLong: () => 'Este trecho é longo demais para continuar aqui; use De novo, ou /shakespeare com as últimas linhas dele como semente.',
  seedChanged: (v) =>
    seedChanges(v, { changed: (p) => `trocados ${p}`, dropped: (c) => `removidos ${c} (o modelo não os conhece)`, more, separator: '; ' }),
  seedNote: (v) => `Semente ajustada: ${v.what}.`,
  shakespeareDescription: () => 'Escreve um texto no estilo de Shakespeare que começa com a sua semente',
  versionGone: (v) => `${v.was} não está mais em uso; ${v.now} escreveu isto.`,
  nothingToContinue: () => 'Essa mensagem não tem texto que eu possa continuar.',
  continueMenu: () => 'Continuar como Shakespeare',
  writing: () => '*escrevendo…*',
  cutShort: (v) => `Cortado aqui; todos os ${v.chars} caracteres estão em ${v.file}.`,
  adminOnly: (v) => `Só membros que podem gerenciar este servidor podem usar ${v.guarded}.`,
  guildOnly: (v) => `${v.guarded} só funciona em um servidor.`,
  cooldown: (v) => `Você acabou de pedir; tente de novo em ${v.seconds} s.`,
  invalidRequest: (v) => `Pedido inválido: ${v.detail}.`,
  busy: (v) => `O bardo está ocupado; tente de novo em ${v.seconds} s.`,
  noModel: () => 'Ainda não há nenhum modelo carregado; tente de novo em um minuto.',
  modelLoading: () => 'O modelo está carregando; tente de novo em alguns segundos.',
  workerFailed: () => 'O gerador falhou enquanto escrevia isto; ele foi reiniciado, tente de novo.',
  refused: (v) => `Recusado: ${v.detail}.`,
  genericFailure: () => 'Algo deu errado; o erro foi registrado.',
  restarting: () => 'O bot está reiniciando; tente de novo em um minuto.',
  unknownCommand: (v) => `Comando desconhecido: /${v.command}.`,
  useSubcommand: (v) => `Use ${v.choices.join(', ')}.`,
  noVersions: (v) => `Ainda não há versões de ${v.model}.`,
  badVersionName: () => 'As versões se chamam, por exemplo, v3; /model versions lista todas.',
  unknownVersion: (v) => `Não existe ${v.model} ${v.version}; /model versions lista as versões.`,
  rollbackFailed: (v) => `Não foi possível carregar ${v.model} ${v.version}: ${v.detail}. Continua em uso: ${v.serving ?? 'nenhuma versão'}.`,
  nowServing: (v) => `Agora em uso: ${v.model} ${v.version}${v.was ? ` (antes ${v.was})` : ''}.`,
  chartDescription: () => 'Perda de treino e de validação por época',
  retrainBusy: (v) => `Não iniciado: ${v.detail}. /retrain status mostra o progresso.`,
  retrainWillReport: () => 'O resultado virá aqui, ou por DM se a execução durar mais que esta mensagem (15 minutos).',
  retrainIdle: (v) => `Nenhum retreino em andamento. O último: ${v.last}`,
  retrainNever: () => 'Nenhum retreino em andamento, e nenhum foi feito ainda.',
  retrainNotRunning: () => 'Nenhum retreino em andamento.',
  retrainAlreadyOver: () => 'O retreino já tinha terminado.',
  retrainEnded: (v) => `Retreino ${v.run}: ${outcomes[v.outcome]}.`,
  retrainStillRunning: (v) => `O retreino ${v.run} ainda está em andamento; as atualizações ao vivo param aqui (/retrain status mostra o andamento).`,
  seedName: () => 'semente',
  seedOption: () => 'Texto com que o trecho começa, por ex. ROMEO:',
  lengthName: () => 'tamanho',
  lengthOption: (v) => `Caracteres a escrever depois da semente (padrão ${v.default})`,
  temperatureName: () => 'temperatura',
  temperatureOption: (v) => `Aleatoriedade: baixa é segura, alta é selvagem (padrão ${v.default})`,
  topKOption: () => 'Sortear só entre os k caracteres mais prováveis',
  topPOption: () => 'Sortear só entre os caracteres mais prováveis que somam essa probabilidade',
  modelDescription: () => 'Sobre o modelo que escreve o texto',
  modelInfoDescription: () => 'Versão, perda de validação, detalhes do treino e um gráfico da perda',
  modelVersionsDescription: () => '(admins) Lista todas as versões e qual é a atual',
  modelRollbackDescription: () => '(admins) Coloca outra versão em uso agora',
  versionName: () => 'versão',
  versionOption: () => 'A versão a colocar em uso, por ex. v2',
  retrainDescription: () => '(admins) Retreina o modelo com o corpus atual e o publica se for melhor',
  retrainStartDescription: () => 'Inicia um retreino agora',
  epochsName: () => 'épocas',
  epochsOption: () => 'Épocas de treino (padrão: conforme a configuração)',
  minutesName: () => 'minutos',
  minutesOption: () => 'Tempo máximo em minutos (padrão: conforme a configuração)',
  retrainStatusDescription: () => 'Progresso do retreino em andamento, ou como o último terminou',
  retrainCancelDescription: () => 'Para o retreino em andamento; nada é publicado',
  // /corpus
  corpusAddDescription: () => 'Adiciona um arquivo .txt UTF-8 ao corpus; o próximo retreino o usa',
  fileName: () => 'arquivo',
  corpusFileOption: () => 'Um arquivo .txt em UTF-8',
  nameName: () => 'nome',
  corpusNameOption: () => 'Salvar com este nome (padrão: o do arquivo)',
  corpusListDescription: () => 'Os arquivos, seus tamanhos e quais são novos desde o treino da versão em uso',
  corpusRemoveDescription: () => 'Remove um arquivo do corpus (nunca o último)',
  corpusRemoveNameOption: () => 'O arquivo, como /corpus list o mostra',
  corpusDescription: () => '(admins) O texto com que o modelo é retreinado',
  corpusNotTxt: (v) => `Só arquivos .txt podem ser adicionados ao corpus; ${v.name} não é um deles.`,
  corpusTooLarge: (v) => `${v.name} é maior que ${v.limit}, o máximo que /corpus add aceita; nada foi baixado além disso.`,
  corpusUnavailable: (v) => `Não foi possível obter ${v.name}: ${v.reason}. Nada foi adicionado.`,
  corpusBadName: (v) =>
    `${JSON.stringify(v.name)} não é um nome que eu possa guardar: letras, dígitos, ".", "-" e "_", terminando em .txt, sem ponto no início, sem pastas.`,
  corpusExists: (v) => `O corpus já tem ${v.name}; remova-o primeiro (/corpus remove) ou adicione-o com outro nome.`,
  corpusMissing: (v) => `O corpus não tem o arquivo ${v.name}; /corpus list mostra os arquivos.`,
  corpusLastFile: (v) => `${v.name} é o único arquivo do corpus, e um retreino precisa de um; adicione outro antes de removê-lo.`,
  corpusNotUtf8: (v) =>
    `${v.name} não é texto UTF-8 (byte inválido 0x${hex(v.byte)} na posição ${v.offset}): um arquivo binário, ou texto em outra codificação. Salve-o como UTF-8 e adicione de novo.`,
  corpusBinary: (v) => `${v.name} é um arquivo binário (contém bytes NUL), não texto.`,
  corpusEmpty: (v) => `${v.name} não tem texto.`,
  corpusAdded: (v) =>
    `${v.name} foi adicionado ao corpus de ${v.model}: ${num(v.chars)} caracteres. O próximo retreino (à noite, ou com /retrain start) vai usá-lo.`,
  corpusNewChars: (v) =>
    `${v.chars.length} ${v.chars.length === 1 ? 'caractere novo' : 'caracteres novos'} para o vocabulário de ${v.version}: ${chars(v.chars)}. O próximo retreino começa do zero (um vocabulário novo não pode partir do modelo anterior).`,
  corpusNoNewChars: (v) => `Todos os caracteres dele estão no vocabulário de ${v.version}.`,
  corpusListHeader: (v) => `O corpus de ${v.model}: ${v.files} ${v.files === 1 ? 'arquivo' : 'arquivos'}, ${num(v.chars)} caracteres.`,
  corpusListFile: (v) =>
    `• ${v.name}: ${num(v.chars)} caracteres, ${v.size}${v.isNew ? ' (novo desde o treino da versão em uso)' : ''}${v.problem ? ` (${v.problem}: todo retreino vai falhar até que seja corrigido ou removido)` : ''}`,
  corpusListMore: (v) => `…e mais ${v.count}.`,
  corpusNoFiles: (v) => `O corpus de ${v.model} não tem arquivos; adicione um com /corpus add.`,
  corpusUnchanged: (v) => `${v.version} (em uso) foi treinado exatamente com estes arquivos.`,
  corpusChanged: (v) => `O corpus mudou desde o treino de ${v.version} (em uso)${v.removed.length ? `; removidos desde então: ${v.removed.join(', ')}` : ''}.`,
  corpusRemoved: (v) => `${v.name} removido; ${v.files === 1 ? 'resta 1 arquivo' : `restam ${v.files} arquivos`}. O próximo retreino será feito sem ele.`,
  corpusGoneChars: (v) =>
    `${v.chars.length} ${v.chars.length === 1 ? 'caractere' : 'caracteres'} do vocabulário de ${v.version} não ${v.chars.length === 1 ? 'aparece' : 'aparecem'} mais no corpus: ${chars(v.chars)}. O próximo retreino começa do zero.`,
};
