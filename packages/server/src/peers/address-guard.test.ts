import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPrivateAddress } from './address-guard.ts';

describe('isPrivateAddress', () => {
  const cases: [ip: string, isPrivate: boolean, why: string][] = [
    // refused: a peer must never make us call ourselves or our LAN (SSRF)
    ['127.0.0.1', true, 'IPv4 loopback'],
    ['127.255.255.254', true, 'anywhere in 127/8'],
    ['0.0.0.0', true, '"this host": connects to loopback on most systems'],
    ['10.0.0.1', true, 'RFC 1918 10/8'],
    ['10.255.255.255', true, 'end of 10/8'],
    ['172.16.0.1', true, 'RFC 1918 172.16/12'],
    ['172.31.255.255', true, 'end of 172.16/12'],
    ['192.168.1.1', true, 'RFC 1918 192.168/16'],
    ['169.254.169.254', true, 'link-local: cloud metadata service'],
    ['100.64.0.1', true, 'carrier-grade NAT'],
    ['192.0.2.10', true, 'documentation range'],
    ['198.18.0.1', true, 'benchmarking range'],
    ['224.0.0.1', true, 'multicast'],
    ['255.255.255.255', true, 'broadcast'],
    ['::1', true, 'IPv6 loopback'],
    ['[::1]', true, 'IPv6 loopback in URL brackets'],
    ['::', true, 'IPv6 unspecified'],
    ['fe80::1', true, 'IPv6 link-local'],
    ['fc00::1', true, 'IPv6 unique local'],
    ['fd12:3456::1', true, 'IPv6 unique local (fd00::/8)'],
    ['ff02::1', true, 'IPv6 multicast'],
    ['2001:db8::1', true, 'IPv6 documentation range'],
    ['::ffff:127.0.0.1', true, 'IPv4-mapped loopback must not slip through as IPv6'],
    ['::FFFF:10.1.2.3', true, 'IPv4-mapped private, upper-case prefix'],
    ['::ffff:169.254.169.254', true, 'IPv4-mapped metadata service'],
    ['::ffff:7f00:1', true, 'IPv4-mapped loopback in hex: how new URL() writes [::ffff:127.0.0.1]'],
    ['0:0:0:0:0:ffff:7f00:1', true, 'IPv4-mapped loopback, uncompressed'],
    ['0:0:0:0:0:0:0:1', true, 'IPv6 loopback, uncompressed'],
    ['64:ff9b::7f00:1', true, 'NAT64 prefix (could reach 127.0.0.1 through a translator)'],
    ['localhost', true, 'not an IP address: never counted as public'],
    ['', true, 'empty: not public'],
    ['127.1', true, 'shorthand is not a valid IP for isIP: not public'],
    // allowed: ordinary public unicast addresses
    ['8.8.8.8', false, 'public IPv4'],
    ['1.1.1.1', false, 'public IPv4'],
    ['172.32.0.1', false, 'just outside 172.16/12'],
    ['192.169.0.1', false, 'just outside 192.168/16'],
    ['11.0.0.1', false, 'just outside 10/8'],
    ['2001:4860:4860::8888', false, 'public IPv6'],
    ['2001:4860::8888', false, 'public IPv6'],
    ['[2606:4700::1111]', false, 'public IPv6 in URL brackets'],
    ['::ffff:8.8.8.8', false, 'IPv4-mapped public address'],
    ['::ffff:808:808', false, 'IPv4-mapped public address in hex'],
  ];
  for (const [ip, isPrivate, why] of cases) {
    it(`${JSON.stringify(ip)} is ${isPrivate ? 'private' : 'public'} (${why})`, () => {
      assert.equal(isPrivateAddress(ip), isPrivate);
    });
  }
});
