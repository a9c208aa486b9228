import { describe, expect, it } from 'vitest';
import { ZH_PATTERNS, zhExtractor } from '../../src/evidence/zh.js';
import { describeConformance, keysOf } from './conformance-kit.js';

const keys = (text: string) => keysOf(zhExtractor, text);

const CHROME_REFUSED = `无法访问此网站
127.0.0.1 拒绝了我们的连接请求。
请试试以下办法：
检查网络连接
检查代理服务器和防火墙
ERR_CONNECTION_REFUSED`;

const SAMPLES = [
  CHROME_REFUSED,
  'System.Net.Sockets.SocketException (10061): 由于目标计算机积极拒绝，无法连接。 127.0.0.1:5000',
  '{"code":401,"message":"token已过期，请重新登录"}',
  '上传文件时报 413，请求实体过大',
  'curl: (7) Failed to connect to 10.0.0.8 port 8080: 拒绝连接',
];

describe('zh extractor', () => {
  it('reads localised OS socket errors', () => {
    expect(keys('System.Net.Sockets.SocketException (10061): 由于目标计算机积极拒绝，无法连接。 127.0.0.1:5000')).toEqual([
      'net.error=connection_refused',
    ]);
    expect(keys('curl: (7) Failed to connect to 10.0.0.8 port 8080: 拒绝连接')).toEqual(['net.error=connection_refused']);
    expect(keys('System.IO.IOException: 无法从传输连接中读取数据: 远程主机强迫关闭了一个现有的连接。')).toEqual([
      'net.error=connection_reset',
    ]);
    expect(keys('curl: (56) Recv failure: 连接被对方重设')).toEqual(['net.error=connection_reset']);
    expect(keys('[WinError 10060] 由于连接方在一段时间后没有正确答复或连接的主机没有反应，连接尝试失败。')).toEqual([
      'net.error=connect_timeout',
    ]);
    expect(keys('java.net.NoRouteToHostException: 没有到主机的路由')).toEqual(['net.error=host_unreachable']);
    expect(keys('connect: 网络不可达')).toEqual(['net.error=network_unreachable']);
    expect(keys('NewConnectionError: Failed to establish a new connection: [Errno -2] 未知的名称或服务')).toEqual([
      'net.error=dns_not_found',
    ]);
    expect(keys('socket.gaierror: [Errno -3] 域名解析暂时失败')).toEqual(['net.error=dns_temporary']);
    expect(keys('BrokenPipeError: [Errno 32] 断开的管道')).toEqual(['net.error=broken_pipe']);
  });

  it('reads Chrome and Firefox Chinese error pages', () => {
    expect(keys(CHROME_REFUSED)).toEqual(['net.error=connection_refused']);
    expect(keys('无法访问此网站\napi.example.com 的响应时间过长。')).toEqual(['net.error=connect_timeout']);
    expect(keys('无法访问此网站\n找不到 intranet 的服务器 IP 地址。')).toEqual(['net.error=dns_not_found']);
    expect(keys('该网页无法正常运作\n127.0.0.1 未发送任何数据。\nERR_EMPTY_RESPONSE')).toEqual(['net.error=empty_reply']);
    expect(keys('该网页无法正常运作\nexample.com 将您重定向的次数过多。')).toEqual(['http.redirect_loop']);
    expect(keys('无法连接\nFirefox 无法建立到 localhost:8080 服务器的连接。')).toEqual(['net.error=connection_refused']);
    expect(keys('此服务器无法证明它是 www.example.com；其安全证书来自 *.cdn.example.net。')).toEqual(['tls.error=hostname_mismatch']);
    expect(keys('此服务器无法证明它是 localhost；您计算机的操作系统不信任其安全证书。')).toEqual(['tls.error=unknown_issuer']);
    expect(keys('此服务器无法证明它是 www.example.com；它的安全证书已于 3 天前过期。')).toEqual(['tls.error=cert_expired']);
    expect(keys('www.example.com 使用了不受支持的协议。\nERR_SSL_VERSION_OR_CIPHER_MISMATCH')).toEqual(['tls.error=protocol_version']);
  });

  it('picks the timeout phase from the wording', () => {
    expect(keys('连接超时，请稍后重试')).toEqual(['net.error=connect_timeout']);
    expect(keys('连接服务器超时')).toEqual(['net.error=connect_timeout']);
    expect(keys('读取超时：后端 60 秒内没有返回')).toEqual(['net.error=read_timeout']);
    expect(keys('请求超时')).toEqual(['net.error=timeout']);
    expect(keys('请求超时：等待响应超时')).toEqual(['net.error=read_timeout']);
    expect(keys('504 网关超时')).toEqual(['http.status=504']);
    expect(keys('502 网关错误')).toEqual(['http.status=502']);
    expect(keys('503 服务暂时不可用')).toEqual(['http.status=503']);
    expect(keys('大半个月没下载，一下载就报429')).toContain('http.status=429');
    expect(keys('nginx日志会连着出现好多499的错误')).toContain('http.status=499');
    expect(keys('接口返回 502，偶尔正常')).toContain('http.status=502');
    expect(keys('这个月返回了3000元的优惠券')).toEqual([]);
  });

  it('reads certificate wording, but not a warning that one will expire', () => {
    expect(keys('SSL 证书已过期，请续签')).toEqual(['tls.error=cert_expired']);
    expect(keys('您的证书即将过期，请及时续费')).toEqual([]);
    expect(keys('使用的是自签名证书')).toEqual(['tls.error=self_signed']);
    expect(keys('证书与域名不匹配')).toEqual(['tls.error=hostname_mismatch']);
    expect(keys('请求被中止: 未能创建 SSL/TLS 安全通道。')).toEqual(['tls.error=handshake_failure']);
  });

  it('reads auth and access wording', () => {
    expect(keys('{"code":401,"message":"token已过期，请重新登录"}')).toEqual(['auth.error=token_expired']);
    expect(keys('暂未登录或token已经过期')).toEqual(['auth.error=missing_credentials', 'auth.error=token_expired']);
    expect(keys('过期的token请求直接返回401')).toEqual(['http.status=401', 'auth.error=token_expired']);
    expect(keys('令牌无效')).toEqual(['auth.error=invalid_token']);
    expect(keys('签名验证失败')).toEqual(['auth.error=invalid_signature']);
    expect(keys('服务器时间不同步导致 token 校验失败')).toEqual(
      expect.arrayContaining(['auth.error=clock_skew', 'auth.error=invalid_token']),
    );
    expect(keys('{"code":403,"msg":"权限不足"}')).toEqual(['auth.forbidden_role']);
    expect(keys('zuul 转发后请求头丢失authorization')).toEqual(['auth.error=header_stripped']);
    expect(keys('<title>WAF拦截提示</title> 您的请求已被拦截')).toEqual(['access.waf']);
    expect(keys('您的 IP 已被列入黑名单')).toEqual(['access.denied_rule']);
  });

  it('reads CORS, limits, redirects, WebSocket and proxy wording', () => {
    expect(keys('前端调用接口报跨域错误')).toEqual(['cors.error=blocked']);
    expect(keys('OPTIONS 预检请求返回 401，预检请求失败')).toContain('cors.error=preflight_failed');
    expect(keys('431 请求头过大')).toEqual(['limit.header']);
    expect(keys('Cookie 太大导致 400')).toEqual(['limit.header']);
    expect(keys('上传文件时报 413，请求实体过大')).toEqual(['http.status=413', 'limit.body']);
    expect(keys('请求过于频繁，请稍后再试')).toEqual(['limit.rate']);
    expect(keys('系统繁忙，请稍后再试')).toEqual(['limit.overload']);
    expect(keys('页面提示重定向次数过多')).toEqual(['http.redirect_loop']);
    expect(keys('WebSocket 升级失败')).toEqual(['ws.upgrade_failed']);
    expect(keys('407 需要代理身份验证')).toEqual(['proxy.auth_required', 'proxy.forward']);
    expect(keys('客户端主动断开连接，nginx 记录 499')).toEqual(['client.closed']);
  });

  it('ignores English text and ordinary Chinese prose', () => {
    expect(keys('connect() failed (111: Connection refused) while connecting to upstream')).toEqual([]);
    expect(keys('我们下周把文件整理好再发给客户，时间不急。')).toEqual([]);
    expect(keys('请先阅读文档，然后登录系统填写周报。')).toEqual([]);
  });
});

describeConformance(zhExtractor, ZH_PATTERNS, SAMPLES);
