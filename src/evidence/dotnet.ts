import type { Extractor } from './extractor.js';
import { addStatus, eachMatch, SignalSink } from './proxy-common.js';
import type { TextDoc } from './text.js';

/**
 * .NET networking: System.Net WebException / HttpRequestException / SslStream messages, which
 * Windows and .NET print in the display language (the same message in English, German, Chinese …
 * means the same thing), WebExceptionStatus names, and `The remote server returned an error: (407)`.
 * Socket-level inner exceptions (SocketException 10054 …) are read by the socket extractor.
 */

interface Message {
  readonly name: string;
  readonly value?: string;
  /** The message in each language, lower case. */
  readonly text: readonly string[];
}

const MESSAGES: readonly Message[] = [
  {
    name: 'tls.error',
    value: 'handshake_failure',
    text: [
      'could not create ssl/tls secure channel',
      'es konnte kein geschützter ssl/tls-kanal erstellt werden',
      'impossible de créer un canal sécurisé ssl/tls',
      'no se puede crear un canal seguro ssl/tls',
      'não foi possível criar um canal seguro para ssl/tls',
      'не удалось создать защищенный канал ssl/tls',
      '未能创建 ssl/tls 安全通道',
      '無法建立 ssl/tls 的安全通道',
      'ssl/tls のセキュリティで保護されているチャネルを作成できませんでした',
      'ssl/tls 보안 채널을 만들 수 없습니다',
      'impossibile creare un canale sicuro ssl/tls',
      // "The underlying connection was closed: An unexpected error occurred on a send." (.NET Framework: TLS version)
      'an unexpected error occurred on a send',
      'unerwarteter fehler beim senden',
      'error inesperado de envío',
      "une erreur inattendue s'est produite lors de l'envoi",
      'erro inesperado em um envio',
      'непредвиденная ошибка при передаче',
      '发送时发生错误',
      '送信時に、予期しないエラーが発生しました',
      'the ssl connection could not be established',
      'securechannelfailure',
      'the handshake failed due to an unexpected packet format',
      'セキュリティで保護されたチャネル サポートでエラーが発生しました',
      'a call to sspi failed',
      // SQL Server's client: TLS is negotiated in the pre-login handshake
      'error occurred during the pre-login handshake',
      'ログイン前のハンドシェイク中にエラーが発生しました',
      '在与服务器进行登录前握手期间发生错误',
      'bei der anmeldevorabhandshake',
      'durante el protocolo de enlace previo al inicio de sesión',
      "lors de l'établissement d'une liaison préalable à l'ouverture de session",
      'во время подтверждения перед входом',
      '로그인 전 핸드셰이크 중에 오류가 발생했습니다',
    ],
  },
  {
    name: 'tls.error',
    value: 'cert_invalid',
    text: [
      'the remote certificate is invalid according to the validation procedure',
      'das remotezertifikat ist laut validierungsverfahren ungültig',
      "le certificat distant n'est pas valide selon la procédure de validation",
      'le certificat distant n’est pas valide selon la procédure de validation',
      'el certificado remoto no es válido según el procedimiento de validación',
      'o certificado remoto é inválido de acordo com o procedimento de validação',
      'удаленный сертификат недействителен согласно результатам проверки подлинности',
      '根据验证过程，远程证书无效',
      '根據驗證程序，遠端憑證是無效的',
      '検証プロシージャによると、リモート証明書は無効です',
      'could not establish trust relationship for the ssl/tls secure channel',
      'für den geschützten ssl/tls-kanal konnte keine vertrauensstellung hergestellt werden',
      'no se puede establecer una relación de confianza para el canal seguro ssl/tls',
      "impossible d'établir une relation de confiance pour le canal sécurisé ssl/tls",
      'não foi possível estabelecer relação de confiança para o canal seguro de ssl/tls',
      'не удалось установить доверительные отношения для защищенного канала ssl/tls',
      '未能为 ssl/tls 安全通道建立信任关系',
      'ssl/tls のセキュリティで保護されているチャネルに対する信頼関係を確立できませんでした',
      'trustfailure',
      'the remote certificate was rejected by the provided remotecertificatevalidationcallback',
    ],
  },
  { name: 'tls.error', value: 'hostname_mismatch', text: ['remotecertificatenamemismatch'] },
  { name: 'tls.error', value: 'unknown_issuer', text: ['remotecertificatechainerrors'] },
  {
    name: 'tls.error',
    value: 'reset_during_handshake',
    text: [
      'authentication failed because the remote party has closed the transport stream',
      'received an unexpected eof or 0 bytes from the transport stream',
    ],
  },
  {
    name: 'net.error',
    value: 'timeout',
    text: [
      'the operation has timed out',
      'timeout für den vorgang wurde überschritten',
      'das zeitlimit für den vorgang wurde überschritten',
      'se excedió el tiempo de espera de la operación',
      'se ha agotado el tiempo de espera de la operación',
      "l'opération a expiré",
      'l’opération a expiré',
      'a operação expirou',
      'o tempo limite da operação foi atingido',
      'время ожидания операции истекло',
      '操作超时',
      '作業逾時',
      '操作はタイムアウトしました',
      '작업 시간을 초과했습니다',
      "timeout dell'operazione",
    ],
  },
  {
    name: 'net.error',
    value: 'read_timeout',
    text: ['the request was canceled due to the configured httpclient.timeout', 'httpclient.timeout of'],
  },
  {
    name: 'net.error',
    value: 'connection_reset',
    text: [
      'an unexpected error occurred on a receive',
      'unerwarteter fehler beim empfangen',
      'error inesperado de recepción',
      "une erreur inattendue s'est produite lors de la réception",
      'erro inesperado em um recebimento',
      'непредвиденная ошибка при приеме',
      '接收时发生错误',
      '受信時に、予期しないエラーが発生しました',
      'receivefailure',
    ],
  },
  {
    name: 'net.error',
    value: 'unexpected_eof',
    text: [
      'the connection was closed unexpectedly',
      '连接被意外关闭',
      'unable to read data from the transport connection',
      'von der übertragungsverbindung können keine daten gelesen werden',
      'no se pueden leer los datos de la conexión de transporte',
      'impossible de lire les données de la connexion de transport',
      'não é possível ler os dados da conexão de transporte',
      'не удается прочитать данные из транспортного соединения',
      '无法从传输连接中读取数据',
      '転送接続からデータを読み取れません',
      'the response ended prematurely',
      // CurlHandler (.NET Core 2 on Linux and macOS) passing on cURL's error 18
      'transferred a partial file',
    ],
  },
  {
    name: 'net.error',
    value: 'dns_not_found',
    text: [
      'nameresolutionfailure',
      'proxynameresolutionfailure',
      // WebException's NameResolutionFailure message, as Windows PowerShell and .NET Framework print it
      'the remote name could not be resolved',
      'der remotename konnte nicht aufgelöst werden',
      "le nom distant n'a pas pu être résolu",
      'le nom distant n’a pas pu être résolu',
      'no se puede resolver el nombre remoto',
      'o nome remoto não pôde ser resolvido',
      '未能解析此远程名称',
      'リモート名を解決できませんでした',
    ],
  },
  {
    name: 'net.error',
    value: 'connect_failed',
    text: [
      // WebException's ConnectFailure message (Invoke-WebRequest, WebClient): the connect failed, how is not said
      'unable to connect to the remote server',
      'es konnte keine verbindung mit dem remoteserver hergestellt werden',
      'impossible de se connecter au serveur distant',
      'no es posible conectar con el servidor remoto',
      'não é possível conectar ao servidor remoto',
      'невозможно соединиться с удаленным сервером',
      'リモート サーバーに接続できません',
      '无法连接到远程服务器',
    ],
  },
  { name: 'client.timeout', text: ['taskcanceledexception', 'a task was canceled', 'the operation was canceled'] },
];

const MESSAGE_OF = new Map<string, Message>();
for (const m of MESSAGES) for (const t of m.text) MESSAGE_OF.set(t, m);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const ANY_MESSAGE = new RegExp(
  [...MESSAGE_OF.keys()]
    .sort((a, b) => b.length - a.length)
    .map(escape)
    .join('|'),
  'gi',
);

/** `The remote server returned an error: (407) Proxy Authentication Required.` in the languages .NET speaks. */
const REMOTE_STATUS =
  /(?:the remote server returned an error|der remoteserver hat einen fehler zurückgegeben|error en el servidor remoto|le serveur distant a retourné une erreur|o servidor remoto retornou um erro|удаленный сервер возвратил ошибку|远程服务器返回错误|遠端伺服器傳回一個錯誤|リモート サーバーがエラーを返しました|errore del server remoto|원격 서버에서)[ \t]{0,2}[:：]?[ \t]{0,2}[(（](\d{3})[)）]/gi;

/**
 * The same in any language .NET is localized to: after `WebException: ` the message, a colon, then
 * the status in parentheses (`El servidor remoto devolvió un error: (502) Puerta de enlace no válida.`).
 */
const WEB_EXCEPTION_STATUS = /\bWebException: [^\n(（:：]{4,160}[:：][ \t]{0,2}[(（](\d{3})[)）]/g;

/**
 * Windows' security status codes for a TLS handshake (SSPI / Schannel and CryptoAPI), which .NET's
 * SslStream, curl built with Schannel and Git for Windows print beside a message in the display
 * language: the code is the same in every language. Names already read by the knowledge base
 * (SEC_E_UNTRUSTED_ROOT, SEC_E_INVALID_TOKEN, SEC_E_ALGORITHM_MISMATCH …) are not repeated here.
 */
const SSPI_CODES: Readonly<Record<string, string>> = {
  '80090322': 'hostname_mismatch', // SEC_E_WRONG_PRINCIPAL: "The target principal name is incorrect"
  '80090325': 'unknown_issuer', // SEC_E_UNTRUSTED_ROOT
  '80090326': 'handshake_failure', // SEC_E_ILLEGAL_MESSAGE: "The message received was unexpected or badly formatted"
  '80090327': 'cert_invalid', // SEC_E_CERT_UNKNOWN: "An unknown error occurred while processing the certificate"
  '80090328': 'cert_expired', // SEC_E_CERT_EXPIRED: "The received certificate has expired"
  '80090349': 'cert_invalid', // SEC_E_CERT_WRONG_USAGE
  '800b0101': 'cert_expired', // CERT_E_EXPIRED
  '80092012': 'revocation_unchecked', // CRYPT_E_NO_REVOCATION_CHECK: "The revocation function was unable to check revocation for the certificate"
  '80092013': 'revocation_unchecked', // CRYPT_E_REVOCATION_OFFLINE: "… because the revocation server was offline"
  '800b010f': 'hostname_mismatch', // CERT_E_CN_NO_MATCH
  SEC_E_WRONG_PRINCIPAL: 'hostname_mismatch',
  SEC_E_ILLEGAL_MESSAGE: 'handshake_failure',
  SEC_E_CERT_UNKNOWN: 'cert_invalid',
  SEC_E_CERT_EXPIRED: 'cert_expired',
  SEC_E_CERT_WRONG_USAGE: 'cert_invalid',
  CERT_E_EXPIRED: 'cert_expired',
  CERT_E_CN_NO_MATCH: 'hostname_mismatch',
  CRYPT_E_NO_REVOCATION_CHECK: 'revocation_unchecked',
  CRYPT_E_REVOCATION_OFFLINE: 'revocation_unchecked',
};
const SSPI =
  /\b(?:0x)?(8009032[25-8]|80090349|800[Bb]010[1Ff]|8009201[23])\b|\b(SEC_E_(?:WRONG_PRINCIPAL|ILLEGAL_MESSAGE|CERT_UNKNOWN|CERT_EXPIRED|CERT_WRONG_USAGE)|CERT_E_(?:EXPIRED|CN_NO_MATCH)|CRYPT_E_(?:NO_REVOCATION_CHECK|REVOCATION_OFFLINE))\b/g;

/**
 * WinHTTP's and WinINet's TLS errors (winhttp.h, wininet.h), by name, as the HRESULT Windows Update, the Store,
 * agents and PowerShell print (0x8007 + the code in hex), and as a number beside a word that says WinHTTP or a
 * security error ("security error 12175"). The socket-level ones (timeout, name not resolved, cannot connect) are in
 * ./vocab/socket-errors.ts.
 */
const WINHTTP_TLS: Readonly<Record<string, string>> = {
  '12175': 'failed', // ERROR_WINHTTP_SECURE_FAILURE: one or more errors in the server's certificate, or no common protocol
  '12157': 'handshake_failure', // ERROR_WINHTTP_SECURE_CHANNEL_ERROR / ERROR_INTERNET_SECURITY_CHANNEL_ERROR
  '12038': 'hostname_mismatch', // …_SEC_CERT_CN_INVALID
  '12037': 'cert_expired', // …_SEC_CERT_DATE_INVALID
  '12045': 'unknown_issuer', // …_INVALID_CA
  '12044': 'client_cert_required', // …_CLIENT_AUTH_CERT_NEEDED
  '12169': 'cert_invalid', // ERROR_WINHTTP_SECURE_INVALID_CERT
  '12170': 'revoked', // ERROR_WINHTTP_SECURE_CERT_REVOKED
};
const WINHTTP_TLS_NAME: Readonly<Record<string, string>> = {
  SECURE_FAILURE: '12175',
  SECURE_CHANNEL_ERROR: '12157',
  SECURITY_CHANNEL_ERROR: '12157',
  SECURE_CERT_CN_INVALID: '12038',
  SEC_CERT_CN_INVALID: '12038',
  SECURE_CERT_DATE_INVALID: '12037',
  SEC_CERT_DATE_INVALID: '12037',
  SECURE_INVALID_CA: '12045',
  INVALID_CA: '12045',
  CLIENT_AUTH_CERT_NEEDED: '12044',
  SECURE_INVALID_CERT: '12169',
  SECURE_CERT_REVOKED: '12170',
  SEC_CERT_REVOKED: '12170',
};
const WINHTTP_TLS_CODE =
  /\bERROR_(?:WINHTTP|INTERNET)_([A-Z_]{6,30})\b|\b0x80072(f8f|f7d|f06|f05|f0d|f0c|f89|f8a)\b|\b(?:WinHttp\w{0,30}|WinINet|security error|secure channel error)[^\n\d]{0,40}(12(?:175|157|038|037|045|044|169|170))\b/gi;

/** Frames of SocketsHttpHandler's connection setup. */
const CONNECTING = /\bConnectHelper\b|\bConnectAsync\b|\bConnectToTcpHostAsync\b|\bEstablishProxyTunnelAsync\b/;

/** The client-side timeout words only count in a .NET HTTP context. */
const HTTP_CONTEXT = /httpclient|system\.net|webexception|httprequestexception|webclient|httpwebrequest/i;

function extract(doc: TextDoc): SignalSink {
  const sink = new SignalSink(doc, 'dotnet');
  const at = (m: RegExpExecArray): [number, number] => [m.index, m.index + m[0].length];
  eachMatch(ANY_MESSAGE, doc, (m) => {
    const msg = MESSAGE_OF.get(m[0].toLowerCase());
    if (!msg) return;
    const around = doc.text.slice(Math.max(0, m.index - 2000), m.index + 2000);
    if (msg.name === 'client.timeout' && !HTTP_CONTEXT.test(around)) return;
    // HttpClient's timeout thrown while still connecting (the stack names ConnectHelper / ConnectAsync): a connect timeout.
    const value = msg.value === 'read_timeout' && CONNECTING.test(around) ? 'connect_timeout' : msg.value;
    sink.add(msg.name, value, ...at(m));
  });
  eachMatch(REMOTE_STATUS, doc, (m) => addStatus(sink, m[1], ...at(m)));
  if (
    doc.mayContain('8009') ||
    doc.mayContain('800b01') ||
    doc.mayContain('sec_e_') ||
    doc.mayContain('cert_e_') ||
    doc.mayContain('crypt_e_')
  )
    eachMatch(SSPI, doc, (m) => {
      const value = SSPI_CODES[m[1]?.toLowerCase() ?? m[2] ?? ''];
      if (value) sink.add('tls.error', value, ...at(m));
    });
  if (doc.mayContain('webexception: ')) eachMatch(WEB_EXCEPTION_STATUS, doc, (m) => addStatus(sink, m[1], ...at(m)));
  if (
    doc.mayContain('winhttp') ||
    doc.mayContain('wininet') ||
    doc.mayContain('error_internet_') ||
    doc.mayContain('0x80072f') ||
    doc.mayContain('security error') ||
    doc.mayContain('secure channel error')
  )
    eachMatch(WINHTTP_TLS_CODE, doc, (m) => {
      const code = m[1] ? WINHTTP_TLS_NAME[m[1].toUpperCase()] : m[2] ? String(parseInt(`2${m[2]}`, 16)) : m[3];
      const value = WINHTTP_TLS[code ?? ''];
      if (value) sink.add('tls.error', value, ...at(m));
    });
  return sink;
}

export const DOTNET_PATTERNS: readonly RegExp[] = [ANY_MESSAGE, REMOTE_STATUS, WEB_EXCEPTION_STATUS, SSPI, WINHTTP_TLS_CODE];

export const dotnetExtractor: Extractor = {
  name: 'dotnet',
  reads:
    '.NET networking and TLS messages in the languages Windows prints them, Windows TLS status codes (SEC_E_…, 0x8009…), WebExceptionStatus names, "(407)"-style remote statuses',
  patterns: DOTNET_PATTERNS,
  extract: (doc) => extract(doc).signals,
};
