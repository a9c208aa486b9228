/**
 * Socket-level failures, one entry per mechanism: the names, numbers and operating-system messages
 * by which every platform and runtime reports it. This is the one table of these facts: the socket
 * extractor (../socket.ts) reads it; nothing else repeats it.
 *
 * Numbers: Linux errno, BSD/macOS errno, Winsock (WSA*) codes. Messages: the C library's strerror
 * and Windows' FormatMessage text in the languages people paste (fragments distinctive enough to
 * stand alone; Windows localises them per display language, glibc per locale).
 */
export interface SocketError {
  /** net.error value. */
  readonly value: string;
  /** Symbolic names, matched as whole words in any case (ECONNREFUSED, :econnrefused, Errno::ECONNREFUSED). */
  readonly names: readonly string[];
  /** errno / Winsock numbers, taken only after a word that says it is an error number. */
  readonly linux?: number;
  readonly bsd?: number;
  readonly winsock?: number;
  /** Message fragments, matched case-insensitively anywhere. */
  readonly messages: readonly string[];
}

export const SOCKET_ERRORS: readonly SocketError[] = [
  {
    value: 'connection_refused',
    names: ['ECONNREFUSED', 'WSAECONNREFUSED', 'ConnectionRefusedError', 'ConnectionRefused', 'ConnectionRefusedException'],
    linux: 111,
    bsd: 61,
    winsock: 10061,
    messages: [
      'connection refused',
      'actively refused',
      'the connection was refused',
      // zh-CN, zh-TW
      '积极拒绝',
      '拒绝连接',
      '拒絕連線',
      '連線被拒',
      // es
      'denegó expresamente',
      'conexión rechazada',
      // de
      'verbindung verweigert',
      'die verbindung verweigerte',
      // fr
      'expressément refusée',
      // pt
      'recusou ativamente',
      'as recusou ativamente',
      // ru
      'отверг запрос на подключение',
      'соединение отклонено',
      // ja
      '拒否されたため、接続できません',
      '接続が拒否されました',
      // ko
      '연결을 거부했으므로',
      '연결이 거부',
      // it
      'rifiuto persistente del computer di destinazione',
    ],
  },
  {
    value: 'connection_reset',
    names: ['ECONNRESET', 'WSAECONNRESET', 'ConnectionResetError', 'ConnectionReset'],
    linux: 104,
    bsd: 54,
    winsock: 10054,
    messages: [
      'connection reset by peer',
      'forcibly closed by the remote host',
      'connection was reset',
      // zh-CN, zh-TW
      '强迫关闭了一个现有的连接',
      '强制关闭了一个现有的连接',
      '連線已被遠端主機強制關閉',
      '连接被对端重置',
      '对端重置连接',
      // es
      'forzado la interrupción de una conexión existente',
      // de
      'vom remotehost geschlossen',
      'vom kommunikationspartner zurückgesetzt',
      // fr
      'fermée par l’hôte distant',
      "fermée par l'hôte distant",
      // pt
      'cancelamento de uma conexão existente pelo host remoto',
      'foi forçado o cancelamento de uma conexão',
      'forçada a fechar pelo anfitrião remoto',
      // ru
      'принудительно разорвал существующее подключение',
      'соединение сброшено другой стороной',
      // ja
      'リモート ホストに強制的に切断',
      'リモート ホストによって強制的に切断',
      'リモート ホストによって強制的に閉じられ',
      // ko
      '원격 호스트에 의해 강제로 끊겼습니다',
      '원격 호스트에 의해 강제로 닫혔습니다',
      // it
      'interrotta forzatamente dall',
    ],
  },
  {
    value: 'connect_timeout',
    names: ['WSAETIMEDOUT', 'ERROR_SEM_TIMEOUT', 'ERR_SOCKET_CONNECTION_TIMEOUT'],
    linux: 110,
    bsd: 60,
    winsock: 10060,
    messages: [
      'connected party did not properly respond after a period of time',
      'timed out trying to connect',
      'connect timed out',
      'connection attempt timed out',
      // zh-CN, zh-TW
      '由于连接方在一段时间后没有正确答复',
      '连接尝试失败',
      '連線嘗試失敗',
      // es
      'la parte conectada no respondió adecuadamente',
      // de
      'die gegenstelle nach einer bestimmten zeitspanne nicht',
      // fr
      'le parti connecté n’a pas répondu',
      "le parti connecté n'a pas répondu",
      // pt
      'o componente conectado não respondeu',
      // ru
      'за требуемое время не получен нужный отклик',
      // ja
      '一定の時間を過ぎても正しく応答しなかった',
      // ko
      '연결된 구성원으로부터 응답이 없어',
      // it
      'la parte connessa non ha risposto correttamente',
      // Windows ERROR_SEM_TIMEOUT (121), which connects over SMB, serial links and some socket stacks
      // report instead of 10060: en, ru, zh-CN
      'the semaphore timeout period has expired',
      'превышен таймаут семафора',
      '信号灯超时时间已到',
    ],
  },
  {
    value: 'timeout',
    // WinHTTP's HRESULT as IIS ARR and ANCM log it: 0x80072ee2, in decimal 2147954402
    names: ['ETIMEDOUT', 'ERR_SOCKET_TIMEOUT', 'APR_TIMEUP', 'ERROR_WINHTTP_TIMEOUT', 'ERROR_INTERNET_TIMEOUT', '0x80072ee2', '2147954402'],
    messages: [
      // APR_TIMEUP (70007): Apache httpd's proxy modules, Subversion
      'the timeout specified has expired',
      // ru: "the waiting time has expired", as .NET and Windows say it without naming the operation
      'время ожидания истекло',
      'истекло время ожидания',
      'превышено время ожидания',
      // glibc strerror(ETIMEDOUT) per locale; en "Connection timed out" is read by the runtime extractors
      'délai d’attente de la connexion dépassé',
      "délai d'attente de la connexion dépassé",
    ],
  },
  {
    value: 'host_unreachable',
    names: ['EHOSTUNREACH', 'WSAEHOSTUNREACH', 'NoRouteToHostException'],
    linux: 113,
    bsd: 65,
    winsock: 10065,
    messages: [
      'no route to host',
      'unreachable host',
      // zh-CN, zh-TW
      '无法连接的主机',
      '無法連線的主機',
      // es
      'host inaccesible',
      'no hay ninguna ruta hasta el',
      // de
      'nicht erreichbaren host',
      // fr
      'hôte impossible à atteindre',
      'aucun chemin d’accès pour atteindre l’hôte',
      "aucun chemin d'accès pour atteindre l'hôte",
      // pt
      'host inacessível',
      'sem rota para o host',
      // ru
      'недоступного узла',
      // ja
      '到達できないホスト',
      // ko
      '연결할 수 없는 호스트',
    ],
  },
  {
    value: 'network_unreachable',
    names: ['ENETUNREACH', 'WSAENETUNREACH', 'ENETDOWN', 'WSAENETDOWN'],
    linux: 101,
    bsd: 51,
    winsock: 10051,
    messages: [
      'network is unreachable',
      'unreachable network',
      '无法连接的网络',
      'red inaccesible',
      'nicht erreichbaren netzwerk',
      'netzwerk ist nicht erreichbar',
      'réseau impossible à atteindre',
      'недоступной сети',
      '到達できないネットワーク',
      '연결할 수 없는 네트워크',
    ],
  },
  {
    value: 'connection_aborted',
    names: ['ECONNABORTED', 'WSAECONNABORTED', 'ConnectionAbortedError'],
    linux: 103,
    bsd: 53,
    winsock: 10053,
    messages: [
      'an established connection was aborted by the software in your host machine',
      '你的主机中的软件中止了一个已建立的连接',
      '您的主机中的软件中止了一个已建立的连接',
      'se ha anulado una conexión establecida por el software en su equipo host',
      'softwaregesteuert durch den hostcomputer abgebrochen',
      'une connexion établie a été abandonnée par un logiciel de votre ordinateur hôte',
      'uma conexão estabelecida foi anulada pelo software no computador host',
      'программа на вашем хост-компьютере разорвала установленное подключение',
      '確立された接続がホスト コンピューターのソフトウェアによって中止されました',
      '현재 연결은 사용자의 호스트 시스템의 소프트웨어의 의해 중단되었습니다',
    ],
  },
  {
    value: 'broken_pipe',
    names: ['EPIPE', 'BrokenPipeError'],
    linux: 32,
    bsd: 32,
    messages: ['broken pipe', 'datenübergabe unterbrochen', 'relais brisé', 'パイプが切断されました'],
  },
  {
    value: 'dns_not_found',
    names: [
      'ENOTFOUND',
      'EAI_NONAME',
      'WSAHOST_NOT_FOUND',
      'UnknownHostException',
      'NameResolutionFailure',
      // WinHTTP / WinINet 12007 (git for Windows, cargo, PowerShell, .NET Framework's WinHttpHandler)
      'ERROR_WINHTTP_NAME_NOT_RESOLVED',
      'ERROR_INTERNET_NAME_NOT_RESOLVED',
      // Winsock 11004: the name exists but has no address record
      'WSANO_DATA',
    ],
    winsock: 11001,
    messages: [
      // WinHTTP / WinINet 12007
      'the server name or address could not be resolved',
      // nl (Windows WSAHOST_NOT_FOUND)
      'host is onbekend',
      'name or service not known',
      'nodename nor servname provided',
      'no such host is known',
      'could not resolve host',
      'getaddrinfo failed',
      'could not find host',
      'name does not resolve',
      'unknown host',
      // zh-CN, zh-TW
      '不知道这样的主机',
      '未知的名称或服务',
      '不知道這樣的主機',
      // es
      'no se conoce ningún host',
      // de
      'der angegebene host ist unbekannt',
      'name oder dienst nicht bekannt',
      // fr, it (Windows WSAHOST_NOT_FOUND)
      'hôte inconnu',
      'host sconosciuto',
      // pt
      'este host não é conhecido',
      'host desconhecido',
      // ru
      'этот хост неизвестен',
      'имя или служба не известны',
      // ja
      'そのようなホストは不明です',
      // ko
      '알려진 호스트가 없습니다',
    ],
  },
  {
    // APR_EOF (70014): Apache httpd and Subversion reading from a peer that closed
    value: 'unexpected_eof',
    names: ['APR_EOF'],
    messages: ['end of file found'],
  },
  {
    // WinHTTP / WinINet 12029 (ERROR_*_CANNOT_CONNECT)
    value: 'connect_failed',
    names: ['ERROR_WINHTTP_CANNOT_CONNECT', 'ERROR_INTERNET_CANNOT_CONNECT', '0x80072efd', '2147954429'],
    messages: ['a connection with the server could not be established'],
  },
  {
    value: 'dns_temporary',
    // WSANO_RECOVERY (11003): the resolver failed ("A non-recoverable error occurred during a database lookup")
    names: ['EAI_AGAIN', 'WSATRY_AGAIN', 'WSANO_RECOVERY', 'EAI_FAIL'],
    winsock: 11002,
    messages: [
      'temporary failure in name resolution',
      'this is usually a temporary error during hostname resolution',
      '域名解析暂时失败',
      'a non-recoverable error occurred during a database lookup',
    ],
  },
];
