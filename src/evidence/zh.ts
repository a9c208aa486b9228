import { runRules, type Extractor, type Rule } from './extractor.js';
import { tidy } from './rule-kit.js';
import type { Signal } from './signal.js';
import type { TextDoc } from './text.js';

/**
 * Chinese error text: localised OS messages (glibc zh_CN `拒绝连接`, `没有到主机的路由`; Windows
 * `由于目标计算机积极拒绝，无法连接。`, `远程主机强迫关闭了一个现有的连接。`), Chrome's and Firefox's
 * Chinese error pages (`拒绝了我们的连接请求`, `的响应时间过长`, `将您重定向的次数过多`, `其安全证书来自…`),
 * and the wording of Chinese APIs, gateways and WAF pages (`token已过期`, `请求过于频繁`, `跨域`).
 * English text in the same paste is left to the other extractors.
 */
export const zhExtractor: Extractor = {
  name: 'zh',
  reads: 'Chinese error messages: localised OS and browser errors, API / gateway / WAF wording',
  get patterns() {
    return ZH_PATTERNS;
  },
  extract(doc: TextDoc): Signal[] {
    if (!HAN.test(doc.text)) return [];
    const active = RULES.filter((_, i) => PHRASES[i]?.keys.some((k) => doc.mayContain(k)));
    return tidy(runRules(doc, active, 'zh'));
  },
};

const HAN = /[\u4e00-\u9fff]/;

/** A rule and the lower-case substrings of which one must occur for it to run. */
interface Phrases {
  readonly keys: readonly string[];
  readonly re: RegExp;
  readonly name: string;
  readonly value?: Rule['value'];
}

const REFUSED = /连接被拒(?:绝)?|拒绝连接|拒绝了我们的连接请求|积极拒绝/g;
/** Firefox: `Firefox 无法建立到 localhost:8080 服务器的连接。` */
const REFUSED_FIREFOX = /无法建立到 [^\s。]{1,80} 服务器的连接/g;
const RESET = /连接(?:被|已)(?:对方)?(?:重置|重设)|强迫关闭了一个现有的连接|中止了一个已建立的连接/g;
/** A timeout that happened, not a timeout setting ("请求超时时间", "超时设置"): nothing after 超时 that names a setting. */
const NOT_A_SETTING = String.raw`(?!时间|设置|配置|参数|时长|阈值|值)`;
const CONNECT_TIMEOUT = new RegExp(
  String.raw`(?:连接(?:已)?超时|建立连接超时|连接[^\n，。,；;]{1,10}超时)${NOT_A_SETTING}|的响应时间过长|没有正确答复或连接的主机没有反应`,
  'g',
);
const READ_TIMEOUT = new RegExp(String.raw`(?:读取(?:数据)?超时|读超时|(?:等待)?响应超时|接收(?:数据)?超时)${NOT_A_SETTING}`, 'g');
const TIMEOUT = new RegExp(String.raw`(?:请求超时|操作超时|访问超时|调用超时)${NOT_A_SETTING}`, 'g');
const GATEWAY_TIMEOUT = /网关超时|网关响应超时/g;
const BAD_GATEWAY = /网关错误|错误的网关/g;
const UNAVAILABLE = /服务(?:暂时|暂)?不可用/g;
/** A 4xx / 5xx code named in Chinese prose: `一下载就报429`, `返回 502`, `好多499的错误`, `状态码为 403`. */
const STATUS_BEFORE = /(?:报错?|返回了?|出现了?|(?:状态|响应|错误)码(?:为|是)?) ?[:：]? ?([45]\d\d)(?!\d)/g;
const STATUS_AFTER = /\b([45]\d\d) ?(?:的)?(?:错误|状态码|报错)/g;
const DNS =
  /无法解析(?:主机|域名|服务器|远程名称|DNS)|(?:域名|DNS ?)解析失败|解析域名失败|域名无法解析|找不到主机|找不到服务器|未知的名称或服务|不知道这样的主机|未能解析此远程名称/g;
/** Chrome: `找不到 intranet 的服务器 IP 地址。` */
const DNS_CHROME = /找不到 [^\s。]{1,80} 的服务器 ?IP ?地址/g;
const DNS_TEMPORARY = /(?:域名|名称)解析暂时失败|主机名解析时的临时错误/g;
const HOST_UNREACHABLE = /没有到主机的路由|无法连接的主机|(?:目标)?主机不可达/g;
const NET_UNREACHABLE = /网络不可达|网络不可抵达|无法连接的网络/g;
/** Chrome's ERR_EMPTY_RESPONSE page: `<host> 未发送任何数据。` (the host is checked in {@link afterHost}). */
const EMPTY = / 未发送任何数据/g;
const CLOSED = /意外(?:地)?终止了连接/g;
const BROKEN_PIPE = /断开的管道/g;

const CERT_EXPIRED = /证书[^\n。；;，,]{0,20}?(?:已经过期|已过期|过期了|已到期|前到期|前过期|过期)/g;
const CERT_NOT_YET_VALID = /证书[^\n。；;，,]{0,20}?(?:尚未生效|还未生效|未生效)/g;
const SELF_SIGNED = /自签名(?:的)?证书|自签证书/g;
const UNKNOWN_ISSUER =
  /证书不受信任|不受信任的证书|不信任(?:其|它的|该)?安全证书|证书颁发机构无效|无法验证证书颁发机构|为 ?SSL\/TLS 安全通道建立信任关系|根证书不受信任/g;
const NAME_MISMATCH =
  /证书(?:与)?域名不匹配|证书名称不匹配|证书[^\n。；]{0,10}?与(?:域名|主机名)不匹配|其安全证书来自|安全证书缺少主题备用名称/g;
const REVOKED = /证书已(?:被)?吊销/g;
const PROTOCOL = /使用了不受支持的协议|协议不受支持|不支持一般 ?SSL 协议版本/g;
const HANDSHAKE = /(?:SSL|TLS|安全) ?握手失败|未能创建 ?SSL\/TLS 安全通道/gi;

const FORBIDDEN = /权限不足|没有(?:访问|操作)?权限|无(?:访问)?权限|无权访问|未被授权执行|拒绝访问|访问被拒绝|禁止访问/g;
const MISSING =
  /未登录|未登陆|请先登录|尚未登录|未认证|未经授权|未授权|缺少(?:令牌|token|Token|TOKEN)|(?:token|Token|TOKEN) ?(?:为空|不能为空)|未携带 ?(?:token|Token|令牌)/g;
const EXPIRED = /(?:token|令牌|登录|会话|凭证|凭据|jwt)(?:状态)? ?(?:已经|已)?(?:过期|失效)|过期(?:的)? ?(?:token|令牌|jwt)/gi;
const STRIPPED = /(?:请求头|header)[^\n。]{0,10}?丢失 ?authorization|authorization[^\n。]{0,10}?(?:丢失|被过滤|被移除|被去掉|被删除)/gi;
const INVALID =
  /(?:token|令牌|jwt) ?(?:无效|不合法|非法|格式错误|校验失败|验证失败|解析失败)|无效的 ?(?:token|令牌)|非法的? ?(?:token|令牌)/gi;
const SIGNATURE = /签名(?:无效|错误|验证失败|校验失败|不匹配)/g;
const SKEW = /时钟不同步|时间不同步|时钟偏差|时钟偏移|时间偏差|系统时间不正确/g;

const CORS = /跨域/g;
const PREFLIGHT = /预检请求[^\n。]{0,20}?(?:失败|未通过|不通过|被拦截)/g;
const HEADER = /(?:请求头|请求标头|头部|header|cookie)[^\n。，,]{0,6}?(?:过大|太大|过长|太长|超出限制|超过限制)/gi;
const BODY = /(?:请求体|请求实体|实体|body|上传文件|上传的文件|文件)[^\n。，,]{0,6}?(?:过大|太大|超出限制|超过限制|大小超过)/gi;
const RATE =
  /请求(?:过于|太)?频繁|(?:过于|太)频繁|(?:访问|操作)(?:过于|太)?频繁|调用频率|频率限制|触发限流|限流|请求次数过多|超出调用限制/g;
const OVERLOAD = /服务器繁忙|系统繁忙|服务繁忙|服务器过载|熔断/g;
const REDIRECT = /重定向(?:的)?次数过多|重定向过多|重定向不正确|无限重定向|循环重定向|重定向循环/g;
/**
 * WAF pages of Chinese clouds and vendors (Aliyun, Tencent Cloud, Baota, Safedog, SafeLine, Knownsec,
 * 360): a request "blocked" or "cut off", a "suspected attack", a "threat to the site".
 */
const WAF =
  /(?:WAF|防火墙|安全策略|安全防护|安全狗|云盾|网站卫士|创宇盾|雷池) ?(?:已)?(?:拦截|阻断)|拦截提示|(?:请求|访问)(?:请求)?(?:已)?被(?:[^\n，。,]{0,10}?)(?:拦截|阻断)|网站防火墙|疑似(?:黑客)?攻击|可能对网站造成(?:安全)?威胁|设置为?拦截/g;
const DENY_RULE = /IP ?(?:地址)?[^\n。]{0,6}?(?:被禁止|被封禁|被拉黑|黑名单)|不在白名单/g;
const CLIENT_CLOSED = /客户端(?:主动)?(?:断开|关闭)(?:了)?连接|客户端已断开/g;
const CONNECTIONS = /连接数(?:已满|过多|超过限制|达到上限)|打开的文件过多|文件描述符(?:不足|耗尽)/g;
const WS = /WebSocket[^\n。]{0,20}?(?:升级失败|握手失败)/gi;
const PROXY = /代理服务器(?:拒绝|出现问题|连接失败|无响应)|无法连接到代理服务器/g;
const PROXY_AUTH = /需要代理(?:身份)?(?:验证|认证)/g;

/** Expiry phrases that are not an expiry: "即将过期", "是否过期", "未过期". */
const notExpired = /即将|将于|将要|快要|是否|未过期|没有过期|不会过期|不过期/;

const PHRASES: readonly Phrases[] = [
  { keys: ['拒绝'], re: REFUSED, name: 'net.error', value: 'connection_refused' },
  { keys: ['无法建立到'], re: REFUSED_FIREFOX, name: 'net.error', value: 'connection_refused' },
  { keys: ['重置', '重设', '强迫关闭', '中止了一个'], re: RESET, name: 'net.error', value: 'connection_reset' },
  { keys: ['超时', '响应时间过长', '没有正确答复'], re: CONNECT_TIMEOUT, name: 'net.error', value: 'connect_timeout' },
  { keys: ['超时'], re: READ_TIMEOUT, name: 'net.error', value: 'read_timeout' },
  { keys: ['超时'], re: TIMEOUT, name: 'net.error', value: 'timeout' },
  { keys: ['网关'], re: GATEWAY_TIMEOUT, name: 'http.status', value: '504' },
  { keys: ['网关'], re: BAD_GATEWAY, name: 'http.status', value: '502' },
  { keys: ['不可用'], re: UNAVAILABLE, name: 'http.status', value: '503' },
  { keys: ['报', '返回', '出现', '码'], re: STATUS_BEFORE, name: 'http.status', value: (m) => m[1] },
  { keys: ['错误', '状态码', '报错'], re: STATUS_AFTER, name: 'http.status', value: (m) => m[1] },
  { keys: ['解析', '找不到', '未知的名称', '不知道这样的主机'], re: DNS, name: 'net.error', value: 'dns_not_found' },
  { keys: ['的服务器'], re: DNS_CHROME, name: 'net.error', value: 'dns_not_found' },
  { keys: ['暂时失败', '临时错误'], re: DNS_TEMPORARY, name: 'net.error', value: 'dns_temporary' },
  { keys: ['路由', '主机', '不可达'], re: HOST_UNREACHABLE, name: 'net.error', value: 'host_unreachable' },
  { keys: ['网络不可', '无法连接的网络'], re: NET_UNREACHABLE, name: 'net.error', value: 'network_unreachable' },
  { keys: ['未发送任何数据'], re: EMPTY, name: 'net.error', value: (m) => (afterHost(m) ? 'empty_reply' : undefined) },
  { keys: ['终止了连接'], re: CLOSED, name: 'net.error', value: 'unexpected_eof' },
  { keys: ['断开的管道'], re: BROKEN_PIPE, name: 'net.error', value: 'broken_pipe' },

  { keys: ['证书'], re: CERT_EXPIRED, name: 'tls.error', value: (m) => (notExpired.test(m[0]) ? undefined : 'cert_expired') },
  { keys: ['生效'], re: CERT_NOT_YET_VALID, name: 'tls.error', value: 'cert_not_yet_valid' },
  { keys: ['自签'], re: SELF_SIGNED, name: 'tls.error', value: 'self_signed' },
  { keys: ['信任', '颁发机构'], re: UNKNOWN_ISSUER, name: 'tls.error', value: 'unknown_issuer' },
  { keys: ['不匹配', '安全证书来自', '主题备用名称'], re: NAME_MISMATCH, name: 'tls.error', value: 'hostname_mismatch' },
  { keys: ['吊销'], re: REVOKED, name: 'tls.error', value: 'revoked' },
  { keys: ['协议'], re: PROTOCOL, name: 'tls.error', value: 'protocol_version' },
  { keys: ['握手失败', '安全通道'], re: HANDSHAKE, name: 'tls.error', value: 'handshake_failure' },

  { keys: ['权限', '授权执行', '拒绝访问', '访问被拒绝', '禁止访问'], re: FORBIDDEN, name: 'auth.forbidden_role' },
  { keys: ['登录', '登陆', '认证', '授权', '缺少', '为空', '未携带'], re: MISSING, name: 'auth.error', value: 'missing_credentials' },
  { keys: ['过期', '失效'], re: EXPIRED, name: 'auth.error', value: (m) => (notExpired.test(m[0]) ? undefined : 'token_expired') },
  {
    get keys() {
      return ['无效', '不合法', '非法', '格式错误', '校验失败', '验证失败', '解析失败'];
    },
    re: INVALID,
    name: 'auth.error',
    value: 'invalid_token',
  },
  { keys: ['authorization'], re: STRIPPED, name: 'auth.error', value: 'header_stripped' },
  { keys: ['签名'], re: SIGNATURE, name: 'auth.error', value: 'invalid_signature' },
  { keys: ['不同步', '偏差', '偏移', '系统时间'], re: SKEW, name: 'auth.error', value: 'clock_skew' },

  { keys: ['跨域'], re: CORS, name: 'cors.error', value: 'blocked' },
  { keys: ['预检'], re: PREFLIGHT, name: 'cors.error', value: 'preflight_failed' },
  { keys: ['过大', '太大', '过长', '太长', '超出限制', '超过限制'], re: HEADER, name: 'limit.header' },
  { keys: ['过大', '太大', '超出限制', '超过限制', '大小超过'], re: BODY, name: 'limit.body' },
  { keys: ['频繁', '频率', '限流', '次数过多', '调用限制'], re: RATE, name: 'limit.rate' },
  { keys: ['繁忙', '过载', '熔断'], re: OVERLOAD, name: 'limit.overload' },
  { keys: ['重定向'], re: REDIRECT, name: 'http.redirect_loop' },
  { keys: ['拦截', '阻断', '网站防火墙', '疑似', '威胁'], re: WAF, name: 'access.waf' },
  { keys: ['黑名单', '白名单', '被禁止', '被封禁', '被拉黑'], re: DENY_RULE, name: 'access.denied_rule' },
  { keys: ['客户端'], re: CLIENT_CLOSED, name: 'client.closed' },
  { keys: ['连接数', '文件过多', '文件描述符'], re: CONNECTIONS, name: 'limit.connections' },
  { keys: ['升级失败', '握手失败'], re: WS, name: 'ws.upgrade_failed' },
  { keys: ['代理服务器'], re: PROXY, name: 'proxy.forward' },
  { keys: ['代理'], re: PROXY_AUTH, name: 'proxy.auth_required' },
  { keys: ['代理'], re: PROXY_AUTH, name: 'proxy.forward' },
];

/** runRules takes one key per rule; these rules have several, checked in extract(). */
const RULES: readonly Rule[] = PHRASES.map((p) => ({
  key: '',
  re: p.re,
  name: p.name,
  ...(p.value !== undefined ? { value: p.value } : {}),
}));

/** Regexes of this extractor, for the linear-time tests. */
export const ZH_PATTERNS: readonly RegExp[] = PHRASES.map((p) => p.re);

function afterHost(m: RegExpExecArray): boolean {
  return /[A-Za-z0-9.:\]-]$/.test(m.input.slice(Math.max(0, m.index - 1), m.index));
}
