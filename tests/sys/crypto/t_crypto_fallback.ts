// SPDX-License-Identifier: BSD-2-Clause
/*
 * crypto_attach() on a machine without libcrypto, without libsodium, or
 * without both: a child process runs it in a private mount namespace
 * where /dev/null is bind-mounted over the library files.  Each case
 * must pick the next backend, warn once on stderr, and still seal and
 * compute X25519 correctly; a backend forced by WG_CRYPTO must fail
 * instead.  It requires root (a mount namespace).
 */

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crypto_noble_attach } from '../../../sys/crypto/crypto_noble.js';
import { crypto_openssl_attach } from '../../../sys/crypto/crypto_openssl.js';
import { crypto_sodium_attach } from '../../../sys/crypto/crypto_sodium.js';
import { WG_CRYPTO_ENV } from '../../../sys/crypto/crypto_select.js';

const noble = crypto_noble_attach();

function tohex(b: Uint8Array | null): string {
	return b === null ? 'null' : Buffer.from(b).toString('hex');
}

/* Load both libraries here, so that their files show in /proc/self/maps. */
function loaded(): string {
	try {
		crypto_openssl_attach(crypto_sodium_attach());
		return '';
	} catch (e) {
		return (e as Error).message;
	}
}
const load_err = loaded();

/* The file a library was loaded from (symbolic links resolved), from this process's mappings. */
function mapped_path(lib: string): string | null {
	const line = readFileSync('/proc/self/maps', 'utf8').split('\n').find((l) => l.includes(`/${lib}`));
	return line === undefined ? null : line.slice(line.indexOf('/'));
}

/*
 * Run crypto_attach() in a child whose mount namespace hides the given
 * libraries (bind-mounting /dev/null over them), as on a machine without
 * them.  The child prints the backend and a sealed test message.
 */
function attach_without(hide: string[], env: Record<string, string> = {}):
    { status: number | null; stdout: string; stderr: string } {
	const select = fileURLToPath(new URL('../../../sys/crypto/crypto_select.js', import.meta.url));
	const code = `const { crypto_attach } = await import(${JSON.stringify(select)});
		const c = crypto_attach();
		const k = new Uint8Array(32).fill(9);
		const sealed = Buffer.from(c.aead_seal(k, 7, new Uint8Array(100).fill(1), new Uint8Array(3)));
		const dh = c.dh(c.generate_private_key(), c.public_key(c.generate_private_key()));
		console.log(JSON.stringify({ backend: c.backend, sealed: sealed.toString('hex'), dh: dh !== null }));`;
	const mounts = hide.map((p) => `mount --bind /dev/null '${p}' && `).join('');
	const r = spawnSync('unshare', ['-m', 'sh', '-c', `${mounts}exec "$0" --input-type=module -e "$1"`,
	    process.execPath, code], { encoding: 'utf8', env: { ...process.env, [WG_CRYPTO_ENV]: '', ...env } });
	return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

t.test('fallback when libcrypto or libsodium is missing', async (t) => {
	const libcrypto = mapped_path('libcrypto.so.3');
	const libsodium = mapped_path('libsodium.so.23');
	if (process.getuid?.() !== 0 || libcrypto === null || libsodium === null) {
		t.fail(`!!! NOT RUN: needs root for a mount namespace and both libraries loaded ` +
		    `(uid ${process.getuid?.()}, libcrypto ${libcrypto}, libsodium ${libsodium}) ${load_err}`);
		return;
	}
	const want = tohex(noble.aead_seal(new Uint8Array(32).fill(9), 7, new Uint8Array(100).fill(1), new Uint8Array(3)));
	const cases: [string, string[], string, RegExp][] = [
		['nothing hidden', [], 'openssl', /^$/],
		['libcrypto hidden', [libcrypto], 'sodium',
			/^wg: cannot load OpenSSL libcrypto \(.*\); using the slower 'sodium' crypto backend\n$/],
		['libsodium hidden', [libsodium], 'openssl',
			/^wg: cannot load libsodium \(.*\); X25519 and XChaCha20 from the slower 'noble' backend\n$/],
		['both hidden', [libcrypto, libsodium], 'noble', /using the slower 'noble' crypto backend\n$/],
	];
	for (const [what, hide, backend, warning] of cases) {
		const r = attach_without(hide);
		let out: { backend?: string; sealed?: string; dh?: boolean } = {};
		try {
			out = JSON.parse(r.stdout) as typeof out;
		} catch {
			t.fail(`${what}: child failed (status ${r.status}): ${r.stderr}`);
			continue;
		}
		t.equal(out.backend, backend, `${what}: ${backend}`);
		t.equal(out.sealed, want, `${what}: seals correctly`);
		t.equal(out.dh, true, `${what}: dh works`);
		t.match(r.stderr, warning, `${what}: warning (${JSON.stringify(r.stderr)})`);
	}
	const r = attach_without([libcrypto], { [WG_CRYPTO_ENV]: 'openssl' });
	t.not(r.status, 0, 'WG_CRYPTO=openssl without libcrypto: the child fails');
});
