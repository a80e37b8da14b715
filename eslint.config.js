// SPDX-License-Identifier: BSD-2-Clause
// eslint flat config: typescript-eslint's type-checked recommended rules
// on the TypeScript sources, and the layers of the tree as import rules
// (share/doc/DESIGN.md, "Layers").
import tseslint from 'typescript-eslint';

/* An import whose specifier matches `regex` is an error in `files`. */
function layer(files, ...bans) {
	return {
		files,
		rules: {
			'no-restricted-imports': ['error', { patterns: bans.map(([regex, message]) => ({ regex, message })) }],
		},
	};
}

export default tseslint.config(
	{ ignores: ['obj/**', 'node_modules/**', '.tap/**'] },
	...tseslint.configs.recommendedTypeChecked,
	{
		files: ['**/*.ts'],
		languageOptions: {
			parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
		},
		rules: {
			/* tap awaits its subtests itself: t.test() may float. */
			'@typescript-eslint/no-floating-promises': ['error', {
				allowForKnownSafePromises: [{ from: 'package', name: 'PromiseWithSubtest', package: '@tapjs/core' }],
			}],
			'@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
			'@typescript-eslint/no-explicit-any': 'error',
			'no-constant-condition': ['error', { checkLoops: false }],
		},
	},
	/* A tap callback is async by convention, whether or not it awaits yet. */
	{
		files: ['tests/**/*.ts'],
		rules: { '@typescript-eslint/require-await': 'off' },
	},
	/*
	 * The sans-I/O core imports its own files, the crypto interface
	 * (not a backend), the radix, sys/sys, and lib/libc/inet.ts (the
	 * address text forms libc and the kernel share, as NetBSD's
	 * common/lib/libc/inet): no Node module, no driver, no host binding.
	 */
	layer(['sys/net/wg/**/*.ts'],
	    ['^(?!\\./|\\.\\./radix\\.js$|\\.\\./\\.\\./crypto/crypto(_util)?\\.js$|\\.\\./\\.\\./sys/|\\.\\./\\.\\./\\.\\./lib/libc/inet\\.js$)',
		'sys/net/wg is the sans-I/O core: it imports only ./, ../radix, the crypto interface and sys/sys']),
	/* The kernel knows drivers through the configuration (sys/arch/linux/conf), never by path. */
	layer(['sys/kern/**/*.ts'],
	    ['/net/if_wg[^/]*$', 'sys/kern never imports the wg(4) driver (sys/net/if_wg*)']),
	/* Libraries serve programs; a program is never a library's dependency. */
	layer(['lib/**/*.ts'],
	    ['(^|/)(sbin|usr\\.bin|usr\\.sbin)/', 'lib/ never imports a program']),
);
