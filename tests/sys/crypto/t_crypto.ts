// SPDX-License-Identifier: BSD-2-Clause
/*
 * sys/crypto on every backend: published vectors (RFC 8439, RFC 7748,
 * RFC 7693 / BLAKE2 KAT, draft-irtf-cfrg-xchacha-03, the WireGuard KDF
 * table), low-order points, tampering, the allocation-free data-path
 * forms, bad arguments, and sodium == noble == openssl (the backend)
 * == node:crypto on seeded random input, and backend selection
 * (t_crypto_fallback.ts hides the libraries).
 *
 * libsodium and libcrypto are expected on this machine: if either does
 * not load, its part fails loudly instead of being skipped.
 */

import t from 'tap';
import * as nodecrypto from 'node:crypto';
import { blake2s } from '@noble/hashes/blake2.js';
import type { WgCryptoBackend } from '../../../sys/crypto/crypto.js';
import { crypto_noble_attach } from '../../../sys/crypto/crypto_noble.js';
import { OPENSSL_MIN_LEN, crypto_openssl_attach, crypto_openssl_version } from '../../../sys/crypto/crypto_openssl.js';
import { crypto_sodium_attach, crypto_sodium_version } from '../../../sys/crypto/crypto_sodium.js';
import { CRYPTO_DEFAULT_ORDER, crypto_attach, WG_CRYPTO_ENV } from '../../../sys/crypto/crypto_select.js';
import {
	type WgCryptoImpl, crypto_const_eq, crypto_is_zero, crypto_wipe,
} from '../../../sys/crypto/crypto_util.js';
import { prng_bytes } from '../../harness/prng.js';

function hx(s: string): Uint8Array {
	return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

function tohex(b: Uint8Array | null): string {
	return b === null ? 'null' : Buffer.from(b).toString('hex');
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function seq(n: number): Uint8Array {
	const b = new Uint8Array(n);
	for (let i = 0; i < n; i++)
		b[i] = i;
	return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
	return new Uint8Array(Buffer.concat(parts));
}

/* The error fn throws, or null. */
function thrown(fn: () => unknown): Error | null {
	try {
		fn();
	} catch (e) {
		return e instanceof Error ? e : new Error(String(e));
	}
	return null;
}

function is_range_error(e: Error | null, re: RegExp): boolean {
	return e instanceof RangeError && re.test(e.message);
}

/* ---- Vectors ---- */

const SUNSCREEN = ascii('Ladies and Gentlemen of the class of \'99: If I could offer you only one tip ' +
    'for the future, sunscreen would be it.');

/* RFC 8439 §2.8.2. */
const RFC8439_282 = {
	key: hx('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'),
	nonce: hx('070000004041424344454647'),
	ad: hx('50515253c0c1c2c3c4c5c6c7'),
	ct: hx(`d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
	    3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
	    92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
	    3ff4def08e4b7a9de576d26586cec64b6116`),
	tag: hx('1ae10b594f09e26a7e902ecbd0600691'),
};

/* RFC 8439 Appendix A.5 (decryption). */
const RFC8439_A5 = {
	key: hx('1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0'),
	nonce: hx('000000000102030405060708'),
	ad: hx('f33388860000000000004e91'),
	ct: hx(`64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2
	    4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf
	    332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855
	    9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4
	    b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e
	    af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a
	    0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10
	    49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29
	    a6ad5cb4022b02709b`),
	tag: hx('eead9d67890cbb22392336fea1851f38'),
	pt: hx(`496e7465726e65742d4472616674732061726520647261667420646f63756d65
	    6e74732076616c696420666f722061206d6178696d756d206f6620736978206d
	    6f6e74687320616e64206d617920626520757064617465642c207265706c6163
	    65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65
	    6e747320617420616e792074696d652e20497420697320696e617070726f7072
	    6961746520746f2075736520496e7465726e65742d4472616674732061732072
	    65666572656e6365206d6174657269616c206f7220746f206369746520746865
	    6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67
	    726573732e2fe2809d`),
};

/* draft-irtf-cfrg-xchacha-03 Appendix A.3.1. */
const XCHACHA_A31 = {
	key: hx('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'),
	nonce: hx('404142434445464748494a4b4c4d4e4f5051525354555657'),
	ad: hx('50515253c0c1c2c3c4c5c6c7'),
	ct: hx(`bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb
	    731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452
	    2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
	    21f9664c97637da9768812f615c68b13b52e`),
	tag: hx('c0875924c1c7987947deafd8780acf49'),
};

/* RFC 7748 §5.2; the second u has bit 255 set, which X25519 must mask. */
const RFC7748_52 = [
	{
		k: 'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
		u: 'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
		out: 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
	},
	{
		k: '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
		u: 'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
		out: '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
	},
];
const RFC7748_ITER_1 = '422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079';
const RFC7748_ITER_1000 = '684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51';

/* RFC 7748 §6.1. */
const RFC7748_61 = {
	a: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
	A: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
	b: '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb',
	B: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
	K: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
};

/*
 * The 12 "low-order" keys of NetBSD's tests/net/if_wg/t_basic.sh.
 * 0..6 are the low-order u-coordinates once reduced mod p: every DH
 * with them is zero.  7..11 are the same values plus p or 2p, i.e.
 * with bit 255 set; RFC 7748 §5 masks that bit before reduction, so
 * they become ordinary points (libsodium, Linux and wireguard-go all
 * mask), and DH with them is non-zero.
 */
const LOW_ORDER_B64 = [
	'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
	'4Ot6fDtBuK4WVuP68Z/EatoJjeucMrH9hmIFFl9JuAA=', 'X5yVvKNQjCSx0LFVnIPvWwREXMRYHI6G2CJO3dCfEVc=',
	'7P///////////////////////////////////////38=', '7f///////////////////////////////////////38=',
	'7v///////////////////////////////////////38=', 'zet6fDtBuK4WVuP68Z/EatoJjeucMrH9hmIFFl9JuIA=',
	'TJyVvKNQjCSx0LFVnIPvWwREXMRYHI6G2CJO3dCfEdc=', '2f////////////////////////////////////////8=',
	'2v////////////////////////////////////////8=', '2/////////////////////////////////////////8=',
];
const LOW_ORDER = LOW_ORDER_B64.map((s) => new Uint8Array(Buffer.from(s, 'base64')));
const LOW_ORDER_REDUCED = 7;

/* BLAKE2s: RFC 7693 Appendix B, and blake2s-kat.txt (key 00..1f, input 00..n-1). */
const BLAKE2S_ABC = '508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982';
const BLAKE2S_KEYED_KAT: [number, string][] = [
	[0, '48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49'],
	[1, '40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1'],
	[2, '6bb71300644cd3991b26ccd4d274acd1adeab8b1d7914546c1198bbe9fc9d803'],
	[3, '1d220dbe2ee134661fdf6d9e74b41704710556f2f6e5a091b227697445dbea6b'],
	[7, 'e6c8125637438d0905b749f46560ac89fd471cf8692e28fab982f73f019b83a9'],
	[64, '8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4'],
	[128, '0c311f38c35a4fb90d651c289d486856cd1413df9b0677f53ece2cd9e477c60a'],
	[255, '3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd'],
];
/* Keyed BLAKE2s with a 16-byte output (the MAC): key 00..1f, and 00..0f for cookie-sized keys. */
const MAC_VECTORS: [Uint8Array, Uint8Array, string][] = [
	[seq(32), new Uint8Array(0), '9536f9b267655743dee97b8a670f9f53'],
	[seq(32), ascii('abc'), '61ba5f165c194692e09d12520cc4c74a'],
	[seq(16), ascii('abc'), '75296c2d2c0f51210b383f386bc8b1ff'],
];

/*
 * WireGuard KDF table (wireguard-go device/kdf_test.go, whose "same" in
 * the second row means input = key = "wireguard").
 */
const KDF_TABLE = [
	{
		key: ascii('test-key'), input: ascii('test-input'),
		t: ['6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633',
			'df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a',
			'fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24'],
	},
	{
		key: ascii('wireguard'), input: ascii('wireguard'),
		t: ['491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8',
			'1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d25f',
			'31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0160'],
	},
	{
		key: new Uint8Array(0), input: new Uint8Array(0),
		t: ['8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0',
			'58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e',
			'0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e'],
	},
];

/* The WireGuard nonce built independently of the code under test. */
function wg_nonce(counter: number): Uint8Array {
	const n = new Uint8Array(12);
	Buffer.from(n.buffer).writeBigUInt64LE(BigInt(counter), 4);
	return n;
}

/* ---- Backends ---- */

let sodium: WgCryptoImpl | null = null;
let sodium_err = '';
try {
	sodium = crypto_sodium_attach();
} catch (e) {
	sodium_err = e instanceof Error ? e.message : String(e);
}
const noble = crypto_noble_attach();
let openssl: WgCryptoImpl | null = null;
let openssl_err = '';
try {
	openssl = crypto_openssl_attach(sodium ?? noble);
} catch (e) {
	openssl_err = e instanceof Error ? e.message : String(e);
}

t.comment(sodium !== null ? `sodium: libsodium ${crypto_sodium_version()}` :
    `!!! sodium FAILED to load: ${sodium_err}`);
t.comment(openssl !== null ? `openssl: ${crypto_openssl_version()}` :
    `!!! openssl FAILED to load: ${openssl_err}`);

const BACKENDS: [WgCryptoBackend, WgCryptoImpl | null, string][] = [
	['openssl', openssl, openssl_err], ['sodium', sodium, sodium_err], ['noble', noble, ''],
];

for (const [name, c, err] of BACKENDS) {
	t.test(`backend ${name}`, async (t) => {
		if (c === null) {
			t.fail(`its library could not be loaded, so the ${name} backend was NOT tested: ${err}`);
			return;
		}
		t.equal(c.backend, name, 'backend name');

		t.test('RFC 8439 §2.8.2 AEAD', async (t) => {
			const v = RFC8439_282;
			const sealed = c.aead_seal_nonce(v.key, v.nonce, SUNSCREEN, v.ad);
			t.equal(tohex(sealed), tohex(concat(v.ct, v.tag)), 'ciphertext and tag');
			t.equal(tohex(c.aead_open_nonce(v.key, v.nonce, sealed, v.ad)), tohex(SUNSCREEN), 'opens');
		});

		t.test('RFC 8439 A.5 decryption', async (t) => {
			const v = RFC8439_A5;
			const ct = concat(v.ct, v.tag);
			t.equal(tohex(c.aead_open_nonce(v.key, v.nonce, ct, v.ad)), tohex(v.pt), 'plaintext');
			t.equal(tohex(c.aead_seal_nonce(v.key, v.nonce, v.pt, v.ad)), tohex(ct), 'seals back');
			const bad = ct.slice();
			bad[bad.length - 1] ^= 0x80;
			t.equal(c.aead_open_nonce(v.key, v.nonce, bad, v.ad), null, 'tampered tag rejected');
		});

		t.test('WireGuard nonce is 4 zero bytes + LE64 counter', async (t) => {
			const key = hx('1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0');
			const pt = ascii('counter check');
			const ad = ascii('ad');
			for (const ctr of [0, 1, 255, 256, 0xffffffff, 0x100000000 + 5, Number.MAX_SAFE_INTEGER]) {
				const a = c.aead_seal(key, ctr, pt, ad);
				t.equal(tohex(a), tohex(c.aead_seal_nonce(key, wg_nonce(ctr), pt, ad)), `counter ${ctr}`);
				t.equal(tohex(c.aead_open(key, ctr, a, ad)), tohex(pt), `counter ${ctr} opens`);
			}
			const a = c.aead_seal(key, 7, pt, ad);
			t.equal(c.aead_open(key, 8, a, ad), null, 'wrong counter rejected');
		});

		t.test('XChaCha20-Poly1305 draft-irtf-cfrg-xchacha-03 A.3.1', async (t) => {
			const v = XCHACHA_A31;
			const sealed = c.xaead_seal(v.key, v.nonce, SUNSCREEN, v.ad);
			t.equal(tohex(sealed), tohex(concat(v.ct, v.tag)), 'ciphertext and tag');
			t.equal(tohex(c.xaead_open(v.key, v.nonce, sealed, v.ad)), tohex(SUNSCREEN), 'opens');
			const bad = sealed.slice();
			bad[0] ^= 1;
			t.equal(c.xaead_open(v.key, v.nonce, bad, v.ad), null, 'tampered ciphertext rejected');
			t.equal(c.xaead_open(v.key, v.nonce, sealed, ascii('other')), null, 'wrong ad rejected');
			t.equal(c.xaead_open(v.key, v.nonce, sealed.subarray(0, 15), v.ad), null, 'short input rejected');
		});

		t.test('tampering: aead_open and aead_open_into fail', async (t) => {
			const key = seq(32);
			const pt = ascii('a handshake payload');
			const ad = ascii('the hash');
			const sealed = c.aead_seal(key, 0, pt, ad);
			for (const where of [0, pt.length - 1, pt.length, sealed.length - 1]) {
				const bad = sealed.slice();
				bad[where] ^= 0x01;
				t.equal(c.aead_open(key, 0, bad, ad), null, `bit flipped at byte ${where}`);
				const out = new Uint8Array(pt.length);
				t.equal(c.aead_open_into(key, 0, bad, 0, bad.length, ad, out, 0), false,
				    `open_into, bit flipped at byte ${where}`);
			}
			t.equal(c.aead_open(key, 0, sealed, ascii('the hasH')), null, 'wrong ad');
			const key2 = key.slice();
			key2[31] ^= 1;
			t.equal(c.aead_open(key2, 0, sealed, ad), null, 'wrong key');
			t.equal(c.aead_open(key, 0, sealed.subarray(0, 15), ad), null, 'shorter than a tag');
			t.equal(c.aead_open_into(key, 0, sealed, 0, 15, ad, new Uint8Array(0), 0), false,
			    'open_into shorter than a tag');
		});

		/* openssl hands messages below OPENSSL_MIN_LEN to its base: both sides of the split. */
		t.test('tampering: aead_open_into fails at every message size class', async (t) => {
			const key = seq(32);
			for (const len of [1, OPENSSL_MIN_LEN - 1, OPENSSL_MIN_LEN, 1420]) {
				const buf = new Uint8Array(16 + len + 16);
				buf.set(prng_bytes(len)(len), 16);
				c.aead_seal_into(key, 77, buf, 16, len, null, buf, 16);
				for (const where of [16, 16 + len - 1, 16 + len, buf.length - 1]) {
					const bad = buf.slice();
					bad[where] ^= 0x80;
					t.equal(c.aead_open_into(key, 77, bad, 16, len + 16, null, bad, 16), false,
					    `${len} bytes, bit flipped at byte ${where - 16}`);
				}
				t.equal(c.aead_open_into(key, 78, buf.slice(), 16, len + 16, null, new Uint8Array(len), 0), false,
				    `${len} bytes, wrong counter`);
				t.equal(c.aead_open_into(key, 77, buf, 16, len + 16, null, buf, 16), true, `${len} bytes open`);
			}
		});

		t.test('data path: in place and at offsets', async (t) => {
			const key = hx('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
			const pt = prng_bytes(42)(1420);
			const want = c.aead_seal(key, 12345, pt, new Uint8Array(0));

			/* In place inside a bigger buffer: 16-byte header, then payload, tag after. */
			const pkt = new Uint8Array(2048).fill(0xee);
			pkt.set(pt, 16);
			t.equal(c.aead_seal_into(key, 12345, pkt, 16, pt.length, null, pkt, 16), pt.length + 16, 'seal returns len + 16');
			t.equal(tohex(pkt.subarray(16, 16 + pt.length + 16)), tohex(want), 'in-place seal = aead_seal');
			t.ok(pkt.subarray(0, 16).every((b) => b === 0xee), 'bytes before untouched');
			t.ok(pkt.subarray(16 + pt.length + 16).every((b) => b === 0xee), 'bytes after untouched');
			t.equal(c.aead_open_into(key, 12345, pkt, 16, pt.length + 16, null, pkt, 16), true, 'in-place open');
			t.equal(tohex(pkt.subarray(16, 16 + pt.length)), tohex(pt), 'in-place plaintext');

			/* From one buffer to another, both at odd offsets, and a subarray as the buffer. */
			const src = new Uint8Array(3000);
			src.set(pt, 7);
			const dst = new Uint8Array(4000).subarray(5);
			c.aead_seal_into(key, 12345, src, 7, pt.length, null, dst, 33);
			t.equal(tohex(dst.subarray(33, 33 + pt.length + 16)), tohex(want), 'seal across buffers');
			const back = new Uint8Array(1500);
			t.equal(c.aead_open_into(key, 12345, dst, 33, pt.length + 16, null, back, 3), true, 'open across buffers');
			t.equal(tohex(back.subarray(3, 3 + pt.length)), tohex(pt), 'plaintext across buffers');

			/* Cycling through more buffers than any view cache holds. */
			const bufs = Array.from({ length: 20 }, () => new Uint8Array(256));
			let ok = true;
			for (let round = 0; round < 3; round++) {
				for (let i = 0; i < bufs.length; i++) {
					const off = 1 + ((i + round) % 9);
					const p = prng_bytes(i * 31 + round)(100);
					bufs[i].set(p, off);
					c.aead_seal_into(key, i, bufs[i], off, 100, null, bufs[i], off);
					ok &&= tohex(bufs[i].subarray(off, off + 116)) === tohex(c.aead_seal(key, i, p, new Uint8Array(0)));
					ok &&= c.aead_open_into(key, i, bufs[i], off, 116, null, bufs[i], off);
					ok &&= tohex(bufs[i].subarray(off, off + 100)) === tohex(p);
				}
			}
			t.ok(ok, '20 buffers x 3 rounds at varying offsets');

			/* Keepalive: empty plaintext. */
			const ka = new Uint8Array(32);
			t.equal(c.aead_seal_into(key, 9, ka, 16, 0, null, ka, 16), 16, 'keepalive seals to a bare tag');
			t.equal(tohex(ka.subarray(16)), tohex(c.aead_seal(key, 9, new Uint8Array(0), new Uint8Array(0))), 'keepalive tag');
			t.equal(c.aead_open_into(key, 9, ka, 16, 16, null, ka, 16), true, 'keepalive opens');

			/* With additional data on the data-path forms. */
			const ad = ascii('some ad');
			const buf = new Uint8Array(200);
			buf.set(pt.subarray(0, 100), 10);
			c.aead_seal_into(key, 3, buf, 10, 100, ad, buf, 10);
			t.equal(tohex(buf.subarray(10, 126)), tohex(c.aead_seal(key, 3, pt.subarray(0, 100), ad)), 'seal_into with ad');
			t.equal(c.aead_open_into(key, 3, buf, 10, 116, null, buf, 10), false, 'ad required to open');
		});

		t.test('RFC 7748 §5.2 X25519', async (t) => {
			for (const v of RFC7748_52)
				t.equal(tohex(c.dh(hx(v.k), hx(v.u))), v.out, `k=${v.k.slice(0, 8)}...`);
		});

		t.test('RFC 7748 §5.2 iterated X25519 (1 and 1000 iterations)', async (t) => {
			let k: Uint8Array = hx('09'.padEnd(64, '0'));
			let u: Uint8Array = k.slice();
			for (let i = 1; i <= 1000; i++) {
				const r = c.dh(k, u);
				if (r === null) {
					t.fail(`iteration ${i} returned null`);
					return;
				}
				u = k;
				k = r;
				if (i === 1)
					t.equal(tohex(k), RFC7748_ITER_1, 'after 1 iteration');
			}
			t.equal(tohex(k), RFC7748_ITER_1000, 'after 1000 iterations');
		});

		t.test('RFC 7748 §6.1 Alice and Bob', async (t) => {
			const v = RFC7748_61;
			t.equal(tohex(c.public_key(hx(v.a))), v.A, 'Alice public key');
			t.equal(tohex(c.public_key(hx(v.b))), v.B, 'Bob public key');
			t.equal(tohex(c.dh(hx(v.a), hx(v.B))), v.K, 'Alice computes K');
			t.equal(tohex(c.dh(hx(v.b), hx(v.A))), v.K, 'Bob computes K');
		});

		t.test('low-order points', async (t) => {
			const rnd = prng_bytes(7);
			const privs = [rnd(32), rnd(32), new Uint8Array(32), new Uint8Array(32).fill(0xff), c.generate_private_key()];
			for (let i = 0; i < LOW_ORDER_REDUCED; i++) {
				let all = true;
				for (const k of privs)
					all &&= c.dh(k, LOW_ORDER[i]) === null;
				t.ok(all, `point ${i} (${LOW_ORDER_B64[i]}): dh is null for every private key`);
			}
			for (let i = LOW_ORDER_REDUCED; i < LOW_ORDER.length; i++) {
				const masked = LOW_ORDER[i].slice();
				masked[31] &= 0x7f;
				const k = privs[0];
				const r = c.dh(k, LOW_ORDER[i]);
				t.ok(r !== null && !crypto_is_zero(r), `point ${i}: bit 255 set, not low order after masking`);
				t.equal(tohex(r), tohex(c.dh(k, masked)), `point ${i}: bit 255 is ignored (RFC 7748 §5)`);
			}
		});

		t.test('BLAKE2s HASH', async (t) => {
			t.equal(tohex(c.hash(ascii('abc'))), BLAKE2S_ABC, 'RFC 7693 Appendix B "abc"');
			t.equal(tohex(c.hash(ascii('a'), ascii(''), ascii('bc'))), BLAKE2S_ABC, 'parts are concatenated');
			t.equal(tohex(c.hash()), tohex(nodecrypto.createHash('blake2s256').digest()), 'no parts = empty input');
			let ok = true;
			for (let n = 0; n <= 256; n++) {
				const m = seq(n);
				ok &&= tohex(c.hash(m)) === nodecrypto.createHash('blake2s256').update(m).digest('hex');
			}
			t.ok(ok, 'unkeyed, inputs 00..n-1 for n = 0..256, equal to OpenSSL blake2s256');
		});

		t.test('MAC (keyed BLAKE2s, 16 bytes)', async (t) => {
			for (const [key, data, want] of MAC_VECTORS) {
				const m = c.mac(key, data);
				t.equal(m.length, 16, 'mac is 16 bytes');
				t.equal(tohex(m), want, `key ${key.length} bytes, data ${data.length} bytes`);
			}
		});

		t.test('HMAC-BLAKE2s', async (t) => {
			const rnd = prng_bytes(99);
			let ok = true;
			for (const [kl, dl] of [[0, 0], [1, 3], [32, 32], [63, 100], [64, 64], [65, 7], [200, 1000]]) {
				const key = rnd(kl);
				const data = rnd(dl);
				ok &&= tohex(c.hmac(key, data)) === nodecrypto.createHmac('blake2s256', key).update(data).digest('hex');
			}
			t.ok(ok, 'equal to OpenSSL HMAC-blake2s256, keys of 0..200 bytes');
		});

		t.test('KDF table', async (t) => {
			for (const v of KDF_TABLE) {
				const name = `key "${Buffer.from(v.key).toString()}"`;
				const k3 = c.kdf3(v.key, v.input);
				t.same(k3.map(tohex), v.t, `${name}: KDF3`);
				t.same(c.kdf2(v.key, v.input).map(tohex), v.t.slice(0, 2), `${name}: KDF2`);
				t.equal(tohex(c.kdf1(v.key, v.input)), v.t[0], `${name}: KDF1`);
			}
		});

		t.test('keys', async (t) => {
			const k = c.generate_private_key();
			t.equal(k.length, 32, 'private key length');
			t.equal(k[0] & 7, 0, 'clamped: low 3 bits clear');
			t.equal(k[31] & 0xc0, 0x40, 'clamped: bit 255 clear, bit 254 set');
			const k2 = c.generate_private_key();
			t.not(tohex(k), tohex(k2), 'two private keys differ');
			const shared = c.dh(k, c.public_key(k2));
			t.ok(shared !== null, 'dh of two fresh keys is not null');
			t.equal(tohex(shared), tohex(c.dh(k2, c.public_key(k))), 'dh agrees both ways');
			const r = c.random_bytes(100);
			t.equal(r.length, 100, 'random_bytes length');
			t.notOk(crypto_is_zero(r), 'random_bytes is not all zero');
			t.equal(c.random_bytes(0).length, 0, 'random_bytes(0)');
			t.equal(c.random_bytes(70000).length, 70000, 'random_bytes over 64 KiB');
		});

		t.test('bad arguments throw a clear error', async (t) => {
			const key = new Uint8Array(32);
			const k31 = new Uint8Array(31);
			const buf = new Uint8Array(100);
			const e0 = new Uint8Array(0);
			const cases: [string, () => unknown, RegExp][] = [
				['aead_seal short key', () => c.aead_seal(k31, 0, e0, e0), /^key: expected 32 bytes, got 31/],
				['aead_open long key', () => c.aead_open(new Uint8Array(33), 0, new Uint8Array(16), e0), /^key:/],
				['aead_seal_into short key', () => c.aead_seal_into(k31, 0, buf, 0, 10, null, buf, 0), /^key:/],
				['aead_open_into short key', () => c.aead_open_into(k31, 0, buf, 0, 20, null, buf, 0), /^key:/],
				['negative counter', () => c.aead_seal(key, -1, e0, e0), /^counter:/],
				['fractional counter', () => c.aead_seal(key, 1.5, e0, e0), /^counter:/],
				['counter 2^53', () => c.aead_seal(key, 2 ** 53, e0, e0), /^counter:/],
				['seal_into dst too small', () => c.aead_seal_into(key, 0, buf, 0, 90, null, buf, 0), /^dst:/],
				['seal_into src overrun', () => c.aead_seal_into(key, 0, buf, 50, 60, null, new Uint8Array(200), 0), /^src:/],
				['seal_into negative offset', () => c.aead_seal_into(key, 0, buf, -1, 10, null, buf, 0), /^src:/],
				['open_into dst too small', () => c.aead_open_into(key, 0, buf, 0, 100, null, new Uint8Array(10), 0), /^dst:/],
				['partial overlap', () => c.aead_seal_into(key, 0, buf, 0, 50, null, buf, 8), /^dst: overlaps/],
				['xaead short nonce', () => c.xaead_seal(key, new Uint8Array(12), e0, e0), /^nonce: expected 24/],
				['xaead short key', () => c.xaead_open(k31, new Uint8Array(24), new Uint8Array(16), e0), /^key:/],
				['dh short pub', () => c.dh(key, k31), /^pub: expected 32 bytes/],
				['dh short priv', () => c.dh(k31, key), /^priv: expected 32 bytes/],
				['public_key short priv', () => c.public_key(k31), /^priv:/],
				['mac 33-byte key', () => c.mac(new Uint8Array(33), e0), /^key:/],
				['mac empty key', () => c.mac(e0, e0), /^key:/],
				['random_bytes(-1)', () => c.random_bytes(-1), /^n:/],
				['aead_seal_nonce 8-byte nonce', () => c.aead_seal_nonce(key, new Uint8Array(8), e0, e0), /^nonce:/],
			];
			for (const [what, fn, re] of cases) {
				const e = thrown(fn);
				t.ok(is_range_error(e, re), `${what}: RangeError ${re} (got ${e ? `${e.name}: ${e.message}` : 'no error'})`);
			}
			const te = thrown(() => c.hash('abc' as unknown as Uint8Array));
			t.ok(te instanceof TypeError && /parts\[0\]/.test(te.message), 'hash of a string: TypeError naming the part');
			t.equal(tohex(buf), tohex(new Uint8Array(100)), 'rejected calls wrote nothing');
		});
	});
}

t.test('sodium == noble == openssl == node:crypto on random input', async (t) => {
	if (sodium === null || openssl === null) {
		t.fail(`a backend did not load, cross-check NOT run: ${sodium_err} ${openssl_err}`);
		return;
	}
	const s = sodium;
	const o = openssl;
	const rnd = prng_bytes(0x5eed);
	const ROUNDS = 300;

	let aead_ok = true;
	let first_bad = '';
	for (let i = 0; i < ROUNDS && aead_ok; i++) {
		const key = rnd(32);
		const len = i < 20 ? i : (rnd(2)[0] | (rnd(1)[0] << 8)) % 1600;
		const pt = rnd(len);
		const ad = rnd(rnd(1)[0] % 48);
		const ctr = (rnd(1)[0] & 1) ? rnd(1)[0] : Buffer.from(rnd(8)).readUInt32LE(0) * 2048 + rnd(1)[0];
		const a = s.aead_seal(key, ctr, pt, ad);
		const b = noble.aead_seal(key, ctr, pt, ad);
		/* openssl's counter forms are sodium's (see crypto_openssl.ts); its nonce forms are OpenSSL's. */
		const c = o.aead_seal_nonce(key, wg_nonce(ctr), pt, ad);
		const ci = nodecrypto.createCipheriv('chacha20-poly1305', key, wg_nonce(ctr), { authTagLength: 16 });
		ci.setAAD(ad, { plaintextLength: len });
		const n = concat(ci.update(pt), ci.final(), ci.getAuthTag());
		aead_ok = tohex(a) === tohex(b) && tohex(a) === tohex(c) && tohex(a) === tohex(n) &&
		    tohex(s.aead_open(key, ctr, c, ad)) === tohex(pt) &&
		    tohex(noble.aead_open(key, ctr, a, ad)) === tohex(pt) &&
		    tohex(o.aead_open_nonce(key, wg_nonce(ctr), b, ad)) === tohex(pt);
		if (!aead_ok)
			first_bad = `round ${i}, len ${len}, counter ${ctr}`;
	}
	t.ok(aead_ok, `aead: ${ROUNDS} rounds agree and cross-open ${first_bad}`);

	/* The data-path forms, in place at a header offset, AD or none, each backend opening the others'. */
	const impls = [s, noble, o];
	let into_ok = true;
	for (let i = 0; i < ROUNDS && into_ok; i++) {
		const key = rnd(32);
		const len = (rnd(2)[0] | (rnd(1)[0] << 8)) % 1500;
		const off = rnd(1)[0] % 40;
		const pt = rnd(len);
		const ad = (i & 1) ? rnd(rnd(1)[0] % 24) : null;
		const ctr = i * 1000003;
		const sealed = impls.map((c) => {
			const buf = new Uint8Array(off + len + 16 + 5);
			buf.set(pt, off);
			c.aead_seal_into(key, ctr, buf, off, len, ad, buf, off);
			return buf;
		});
		into_ok = sealed.every((b) => tohex(b) === tohex(sealed[0]));
		for (let j = 0; j < impls.length && into_ok; j++) {
			const src = sealed[(j + 1) % impls.length].slice();
			into_ok = impls[j].aead_open_into(key, ctr, src, off, len + 16, ad, src, off) &&
			    tohex(src.subarray(off, off + len)) === tohex(pt);
		}
		if (!into_ok)
			first_bad = `round ${i}, len ${len}, offset ${off}`;
	}
	t.ok(into_ok, `seal_into/open_into: ${ROUNDS} rounds agree and cross-open ${into_ok ? '' : first_bad}`);

	let xaead_ok = true;
	for (let i = 0; i < ROUNDS && xaead_ok; i++) {
		const key = rnd(32);
		const nonce = rnd(24);
		const pt = rnd(rnd(1)[0]);
		const ad = rnd(rnd(1)[0] % 40);
		const a = s.xaead_seal(key, nonce, pt, ad);
		const b = noble.xaead_seal(key, nonce, pt, ad);
		xaead_ok = tohex(a) === tohex(b) && tohex(a) === tohex(o.xaead_seal(key, nonce, pt, ad)) &&
		    tohex(s.xaead_open(key, nonce, b, ad)) === tohex(pt) &&
		    tohex(noble.xaead_open(key, nonce, a, ad)) === tohex(pt);
		if (!xaead_ok)
			first_bad = `round ${i}`;
	}
	t.ok(xaead_ok, `xaead: ${ROUNDS} rounds agree and cross-open ${xaead_ok ? '' : first_bad}`);

	/* noble's X25519 is ~1 ms, so fewer rounds here. */
	const DH_ROUNDS = 200;
	let dh_ok = true;
	for (let i = 0; i < DH_ROUNDS && dh_ok; i++) {
		const a = rnd(32);
		const pub = rnd(32);
		const pa = s.public_key(a);
		dh_ok = tohex(pa) === tohex(noble.public_key(a)) &&
		    tohex(s.dh(a, pub)) === tohex(noble.dh(a, pub));
		if (!dh_ok)
			first_bad = `round ${i}: a=${tohex(a)} pub=${tohex(pub)}`;
	}
	t.ok(dh_ok, `dh and public_key: ${DH_ROUNDS} rounds agree ${dh_ok ? '' : first_bad}`);

	let lo_ok = true;
	for (const p of LOW_ORDER) {
		const k = rnd(32);
		lo_ok &&= tohex(s.dh(k, p)) === tohex(noble.dh(k, p));
	}
	t.ok(lo_ok, 'dh on the 12 NetBSD test points agrees');

	let h_ok = true;
	for (let i = 0; i < 50; i++) {
		const key = rnd(1 + (rnd(1)[0] % 32));
		const d = rnd(rnd(1)[0]);
		h_ok &&= tohex(s.mac(key, d)) === tohex(noble.mac(key, d)) &&
		    tohex(s.kdf3(key, d)[2]) === tohex(noble.kdf3(key, d)[2]);
	}
	t.ok(h_ok, 'mac and kdf agree (shared code, checked anyway)');
});

t.test('BLAKE2s keyed KAT (the primitive under mac/hmac, key 00..1f)', async (t) => {
	for (const [n, want] of BLAKE2S_KEYED_KAT)
		t.equal(tohex(blake2s(seq(n), { key: seq(32) })), want, `input 00..${n - 1} (${n} bytes)`);
});

t.test('crypto_const_eq, crypto_wipe, crypto_is_zero', async (t) => {
	t.ok(crypto_const_eq(hx('00112233'), hx('00112233')), 'equal');
	t.notOk(crypto_const_eq(hx('00112233'), hx('00112234')), 'last byte differs');
	t.notOk(crypto_const_eq(hx('80112233'), hx('00112233')), 'first byte differs');
	t.notOk(crypto_const_eq(hx('0011'), hx('001122')), 'lengths differ');
	t.ok(crypto_const_eq(new Uint8Array(0), new Uint8Array(0)), 'empty');
	const k = seq(32);
	const k2 = seq(16).fill(9);
	crypto_wipe(k, null, undefined, k2);
	t.ok(crypto_is_zero(k) && crypto_is_zero(k2), 'wiped');
	t.notOk(crypto_is_zero(hx('000001')), 'not zero');
});

t.test('crypto_attach', async (t) => {
	const saved = process.env[WG_CRYPTO_ENV];
	try {
		delete process.env[WG_CRYPTO_ENV];
		t.same(CRYPTO_DEFAULT_ORDER, ['openssl', 'sodium', 'noble'], 'default order: fastest first');
		t.equal(crypto_attach('noble').backend, 'noble', 'noble by argument');
		if (openssl !== null && sodium !== null) {
			t.equal(crypto_attach().backend, 'openssl', 'default is openssl');
			t.equal(crypto_attach('openssl').backend, 'openssl', 'openssl by argument');
			t.equal(crypto_attach('sodium').backend, 'sodium', 'sodium by argument');
		} else {
			t.fail(`default backend not checked: ${openssl_err} ${sodium_err}`);
		}
		t.equal(crypto_attach('noble'), crypto_attach('noble'), 'one instance per backend');
		process.env[WG_CRYPTO_ENV] = 'noble';
		t.equal(crypto_attach().backend, 'noble', 'WG_CRYPTO=noble forces noble');
		t.equal(crypto_attach('openssl').backend, 'openssl', 'an explicit argument beats WG_CRYPTO');
		process.env[WG_CRYPTO_ENV] = 'nacl';
		const e = thrown(() => crypto_attach());
		t.ok(e !== null && /WG_CRYPTO=nacl/.test(e.message), 'bad WG_CRYPTO is a clear error');
		const e2 = thrown(() => crypto_attach('nacl' as WgCryptoBackend));
		t.ok(is_range_error(e2, /^backend:/), 'bad backend argument is a RangeError');
	} finally {
		if (saved === undefined)
			delete process.env[WG_CRYPTO_ENV];
		else
			process.env[WG_CRYPTO_ENV] = saved;
	}
});

t.test('openssl: a missing libcrypto is a clear error', async (t) => {
	const e = thrown(() => crypto_openssl_attach(noble, ['/nonexistent/libcrypto.so.3']));
	t.ok(e !== null && /^cannot load OpenSSL libcrypto \(\/nonexistent\/libcrypto\.so\.3: /.test(e.message),
	    `names the path and the reason (${e?.message})`);
});

t.test('openssl: aead_forget wipes the context holding a dropped key', async (t) => {
	if (openssl === null) {
		t.fail(`openssl backend missing: ${openssl_err}`);
		return;
	}
	const o = crypto_openssl_attach(sodium ?? noble);
	const k1 = prng_bytes(1)(32);
	const k2 = prng_bytes(2)(32);
	const pkt = new Uint8Array(64);
	o.aead_seal_into(k1, 1, pkt, 0, 48, null, pkt, 0);
	o.aead_forget(k2);
	o.aead_forget(k1);
	/* After a wipe the context has no key: a correct seal proves the next call sets one. */
	const again = new Uint8Array(64);
	o.aead_seal_into(k1, 1, again, 0, 48, null, again, 0);
	t.equal(tohex(again), tohex(noble.aead_seal(k1, 1, new Uint8Array(48), new Uint8Array(0))),
	    'seals correctly after the wipe');
	t.ok(o.aead_open_into(k1, 1, again, 0, 64, null, again, 0), 'opens after the wipe');
	o.aead_forget(k1);
	t.equal(o.aead_open(k2, 5, o.aead_seal(k2, 5, pkt, pkt), pkt)?.length, 64, 'handshake forms still work');
	/* The other backends keep nothing, the call is harmless. */
	noble.aead_forget(k1);
	sodium?.aead_forget(k1);
});
