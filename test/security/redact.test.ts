import { describe, expect, it } from 'vitest';
import { MASK, redact } from '../../src/security/redact.js';

const jwt =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';

describe('redact', () => {
  const cases: [string, string, string][] = [
    ['authorization header', 'Authorization: Bearer abc.def.ghi-123456', 'abc.def'],
    ['basic auth header', '> authorization: Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA'],
    ['proxy authorization', 'Proxy-Authorization: Basic dXNlcjpwYXNz', 'dXNlcjpwYXNz'],
    ['cookie', 'Cookie: session=s3cr3t; csrftoken=abcdef', 's3cr3t'],
    ['set-cookie', '< Set-Cookie: sid=topsecret123; Path=/; HttpOnly', 'topsecret123'],
    ['jwt anywhere', `token was ${jwt} and then`, 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV'],
    ['bearer in prose', 'I send bearer AbCdEfGhIjKlMnOp123 and get 401', 'AbCdEfGhIjKlMnOp123'],
    ['api key header', 'X-Api-Key: 9f8e7d6c5b4a39281706', '9f8e7d6c5b4a39281706'],
    ['api key in query', 'GET /v1/items?api_key=9f8e7d6c5b4a&page=2', '9f8e7d6c5b4a'],
    ['aws access key', 'key AKIAIOSFODNN7EXAMPLE used', 'AKIAIOSFODNN7EXAMPLE'],
    ['aws secret', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'wJalrXUtnFEMI'],
    ['slack bot token', 'SLACK_BOT_TOKEN=xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx', 'AbCdEfGhIjKlMnOp'],
    ['slack app token', 'xapp-1-A0123456789-1234567890123-abcdef0123456789', 'abcdef0123456789'],
    ['password in url', 'HTTPS_PROXY=http://alice:hunter2@proxy.corp:3128', 'hunter2'],
    ['password field', '{"username":"bob","password":"correct horse"}', 'correct horse'],
    ['github token', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'ghp_abcdefghijklmnop'],
  ];
  for (const [name, input, secret] of cases) {
    it(`masks a ${name}`, () => {
      const out = redact(input);
      expect(out).not.toContain(secret);
      expect(out).toContain(MASK);
    });
  }

  it('keeps the parts of a line that are not secret', () => {
    expect(redact('Authorization: Bearer abcdefghijk')).toBe(`Authorization: Bearer ${MASK}`);
    expect(redact('HTTPS_PROXY=http://alice:hunter2@proxy.corp:3128')).toBe(`HTTPS_PROXY=http://alice:${MASK}@proxy.corp:3128`);
  });

  it('leaves ordinary error text alone', () => {
    const line = '2024/01/01 10:00:00 [error] 12#12: *3 connect() failed (111: Connection refused) while connecting to upstream';
    expect(redact(line)).toBe(line);
    expect(redact('my Authorization header has been stripped out of the request')).toBe(
      'my Authorization header has been stripped out of the request',
    );
    expect(redact('UnauthorizedError: No authorization token was found')).toBe('UnauthorizedError: No authorization token was found');
  });

  it('is idempotent', () => {
    const once = redact(`Authorization: Bearer ${jwt}`);
    expect(redact(once)).toBe(once);
  });

  it('stays linear on hostile input', () => {
    const hostile = ['authorization:'.repeat(20000), 'a'.repeat(200000) + '@', 'eyJ'.repeat(50000), 'http://' + 'a:'.repeat(50000)];
    for (const h of hostile) expect(typeof redact(h)).toBe('string');
  });
});
