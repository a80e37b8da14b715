// SPDX-License-Identifier: BSD-2-Clause
/*
 * kauth(9), reduced to what the instance needs: the credentials of the
 * process at the other end of a control connection (SO_PEERCRED, taken
 * when it connected), and the one policy NetBSD's secmodel_suser applies
 * to network configuration: changing anything needs root.
 */

export interface kauth_cred {
	uid: number;
	gid: number;
	pid: number;
}

/* The instance's own credentials: used for work the kernel starts itself (reboot on SIGTERM). */
export const kauth_cred_kernel: Readonly<kauth_cred> = Object.freeze({ uid: 0, gid: 0, pid: 0 });

export function kauth_cred_isroot(cred: kauth_cred): boolean {
	return cred.uid === 0;
}
