import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { aliasAddress, canonicalAddress, domainOf, isDomainName, normalizeDomain, parseAddress } from './address.ts';

describe('normalizeDomain', () => {
  const cases: [input: string, want: string, why: string][] = [
    ['example.com', 'example.com', 'already normal'],
    ['EXAMPLE.Com', 'example.com', 'domains compare case-insensitively'],
    ['example.com.', 'example.com', 'a root dot names the same domain'],
    ['  example.com ', 'example.com', 'configuration values may carry padding'],
    ['Bücher.example', 'xn--bcher-kva.example', 'IDN to A-label'],
    ['münchen.DE', 'xn--mnchen-3ya.de', 'IDN and upper case together'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example', 'an A-label stays as it is'],
    ['ＥＸＡＭＰＬＥ.com', 'example.com', 'full-width letters map to ASCII (IDNA mapping)'],
    ['', '', 'empty: nothing to convert'],
    ['.', '', 'only the root dot'],
    ['exa mple.com', '', 'space inside a name'],
    ['exa\r\nmple.com', '', 'CR/LF inside: the URL host parser would drop them and accept "example.com"'],
    ['exa\tmple.com', '', 'tab inside: the URL host parser would drop it'],
    ['exa%41mple.com', '', 'percent escape: the URL host parser would decode it'],
    ['good.example/evil', '', 'a path: the URL host parser would cut it to "good.example"'],
    ['good.example?x', '', 'a query: would be cut off'],
    ['good.example#x', '', 'a fragment: would be cut off'],
    ['host:25', '', 'a port is not part of a domain'],
    [`${'a'.repeat(250)}.com`, '', 'longer than 253 characters'],
  ];
  for (const [input, want, why] of cases) {
    it(`${JSON.stringify(input)} -> ${JSON.stringify(want)} (${why})`, () => {
      assert.equal(normalizeDomain(input), want);
    });
  }
});

describe('isDomainName', () => {
  const cases: [input: string, want: boolean, why: string][] = [
    ['example.com', true, 'plain'],
    ['localhost', true, 'single label'],
    ['a-b.example', true, 'inner hyphen'],
    ['xn--bcher-kva.example', true, 'A-label'],
    [`${'a'.repeat(63)}.example`, true, '63-character label is the maximum'],
    [`${'a'.repeat(64)}.example`, false, 'label longer than 63'],
    ['-a.example', false, 'label starts with a hyphen'],
    ['a-.example', false, 'label ends with a hyphen'],
    ['a..example', false, 'empty label'],
    ['a_b.example', false, 'underscore is not a host name character'],
    ['Example.com', false, 'not normalized: upper case'],
    ['127.0.0.1', false, 'an IP address is not a domain (numeric top-level label)'],
    ['', false, 'empty'],
  ];
  for (const [input, want, why] of cases) {
    it(`${JSON.stringify(input)} -> ${want} (${why})`, () => {
      assert.equal(isDomainName(input), want);
    });
  }
});

describe('parseAddress and canonicalAddress', () => {
  const good: [input: string, local: string, domain: string, canonical: string, why: string][] = [
    ['alice@example.com', 'alice', 'example.com', 'alice@example.com', 'plain'],
    ['Alice@EXAMPLE.COM', 'Alice', 'example.com', 'alice@example.com', 'local part kept as written, matched lower-cased'],
    ['bob@Bücher.example', 'bob', 'xn--bcher-kva.example', 'bob@xn--bcher-kva.example', 'IDN domain to A-label'],
    ['first.last+tag@example.com', 'first.last+tag', 'example.com', 'first.last+tag@example.com', 'dots and plus in dot-atom'],
    ["o'neil@example.com", "o'neil", 'example.com', "o'neil@example.com", 'apostrophe is atext'],
    ['a@example.com.', 'a', 'example.com', 'a@example.com', 'root dot dropped'],
    [`${'a'.repeat(64)}@example.com`, 'a'.repeat(64), 'example.com', `${'a'.repeat(64)}@example.com`, '64-character local part is the maximum'],
  ];
  for (const [input, local, domain, canonical, why] of good) {
    it(`accepts ${JSON.stringify(input)} (${why})`, () => {
      assert.deepEqual(parseAddress(input), { local, domain });
      assert.equal(canonicalAddress(input), canonical);
      assert.equal(domainOf(canonical), domain);
    });
  }

  const bad: [input: string, why: string][] = [
    ['alice', 'missing @'],
    ['alice.example.com', 'missing @, only a domain'],
    ['@example.com', 'empty local part'],
    ['alice@', 'empty domain'],
    ['"alice smith"@example.com', 'quoted local part (refused: rare and a header-injection risk)'],
    ['"alice"@example.com', 'quoted local part even without special characters'],
    ['a@b@example.com', 'two @: the local part would contain @'],
    ['Alice <alice@example.com>', 'display name form'],
    ['<alice@example.com>', 'angle brackets'],
    ['alice@example.com\r\nRCPT TO:<eve@evil.test>', 'CRLF injection of an SMTP command'],
    ['alice@example.com\r\n', 'trailing CRLF (would be trimmed away by the domain parser)'],
    ['alice@exa\r\nmple.com', 'CRLF inside the domain (dropped by the URL host parser)'],
    ['ali\r\nce@example.com', 'CRLF inside the local part'],
    ['alice@example.com\nBcc: eve@evil.test', 'LF header injection'],
    ['alice\x00@example.com', 'NUL byte'],
    [' alice@example.com', 'leading space'],
    ['alice@example.com ', 'trailing space'],
    ['ali ce@example.com', 'space in local part'],
    ['alice@evil.test/x.example.com', 'slash in domain (URL host parser would keep only "evil.test")'],
    ['alice@exa%41mple.com', 'percent escape in domain'],
    ['alice@127.0.0.1', 'IP address instead of a domain'],
    ['alice@0x7f.1', 'hexadecimal IPv4 shorthand (URL host parser reads it as 127.0.0.1)'],
    ['alice@[127.0.0.1]', 'address literal'],
    ['.alice@example.com', 'local part starts with a dot'],
    ['alice.@example.com', 'local part ends with a dot'],
    ['al..ice@example.com', 'two dots in a row'],
    ['alice@-example.com', 'label starts with a hyphen'],
    ['alice@exam_ple.com', 'underscore in domain'],
    [`${'a'.repeat(65)}@example.com`, 'local part longer than 64'],
    [`a@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(63)}.com`, 'domain longer than 253'],
    [`${'a'.repeat(10_000)}@example.com`, 'huge input: refused before any parsing work'],
  ];
  for (const [input, why] of bad) {
    it(`refuses ${JSON.stringify(input.length > 60 ? `${input.slice(0, 57)}...` : input)} (${why})`, () => {
      assert.equal(parseAddress(input), undefined);
      assert.equal(canonicalAddress(input), undefined);
    });
  }

  it('refuses non-string input passed from untyped JSON', () => {
    assert.equal(parseAddress(42 as unknown as string), undefined);
    assert.equal(parseAddress(null as unknown as string), undefined);
  });
});

describe('canonicalAddress properties', () => {
  // strings made mostly of characters that matter to address parsing, so the parser's edges are hit often
  const addressish = fc.string({
    unit: fc.constantFrom(...'aZ09.-_+@"<> \r\n\t%/:ü\u0000'.split(''), 'ß', 'Ｅ', 'xn--'),
    maxLength: 40,
  });
  const inputs = fc.oneof(addressish, fc.emailAddress(), fc.string());

  it('is idempotent and never yields CR, LF, space or upper case', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const c = canonicalAddress(input);
        if (c === undefined) return;
        assert.equal(canonicalAddress(c), c);
        assert.doesNotMatch(c, /[\r\n\t \x00]/);
        assert.equal(c, c.toLowerCase());
        assert.equal(c.split('@').length, 2);
      }),
      { numRuns: 2000 },
    );
  });

  it('ignores the case of a valid address', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (address) => {
        assert.equal(canonicalAddress(address.toUpperCase()), canonicalAddress(address));
      }),
    );
  });

  it('accepts generated RFC 5322 dot-atom addresses within the length limits', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (address) => {
        const at = address.lastIndexOf('@');
        const fits = address.length <= 320 && at <= 64 && address.length - at - 1 <= 253;
        const numericTld = /\.\d+$/.test(address);
        fc.pre(fits && !numericTld);
        assert.notEqual(parseAddress(address), undefined, address);
      }),
    );
  });
});

describe('aliasAddress', () => {
  const rows: [string, string | undefined, string][] = [
    ['Sales@A.Test', 'sales@a.test', 'an address, canonical'],
    ['@A.Test', '@a.test', 'a catch-all, domain normalized'],
    ['@bücher.test', '@xn--bcher-kva.test', 'a catch-all of an IDN domain as A-label'],
    // an @ alone names no domain
    ['@', undefined, 'no domain'],
    // two @: neither an address nor a catch-all
    ['@@a.test', undefined, 'a catch-all with a second @'],
    ['sales', undefined, 'no domain at all'],
    ['@a.test\r\nX: y', undefined, 'header injection in a catch-all'],
  ];
  for (const [input, want, why] of rows) {
    it(`${JSON.stringify(input)} -> ${JSON.stringify(want)} (${why})`, () => assert.equal(aliasAddress(input), want));
  }
});
