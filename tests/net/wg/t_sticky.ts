// SPDX-License-Identifier: BSD-2-Clause
/*
 * Sticky sources in the core (sys/net/wg/peer.ts, receive.ts): the
 * local address a peer's datagrams arrive at is kept in its endpoint
 * and handed back with every datagram sent to it; it is forgotten when
 * the endpoint is set from outside, on a handshake retransmission and
 * when the driver says the host's addresses changed; a new source alone
 * is no roaming event.
 */

import t from 'tap';
import { ip4, make_pair, attach, v4 } from '../../harness/wg_harness.js';

const LOCAL = v4('192.168.1.101');	/* a's second address, where b's datagrams arrive */

t.test('sticky sources', async (t) => {
	const { net, a, b, a_peer } = make_pair(attach('noble'));
	/* Datagrams reaching a "arrive at" 192.168.1.101 on interface 3, as the driver's pktinfo says. */
	net.filter = (d) => {
		if (d.dst.port === a.ep.port && [...d.dst.addr].join('.') === '192.168.1.1')
			Object.assign(d.src, { src: LOCAL.slice(), src_ifindex: 3 });
		return true;
	};
	a.dev.output(ip4('10.0.0.1', '10.0.0.2', 16), 0, 36);
	net.pump();
	t.equal(b.tun.length, 1, 'the first packet went through');
	const ep = a.dev.peer_info(a_peer).endpoint;
	t.same(ep?.src, LOCAL, 'a keeps the address b sent to');
	t.equal(ep?.src_ifindex, 3, 'and the interface');
	t.equal(a.events_of('endpoint_changed').length, 0, 'a new source alone is not roaming');
	a.sent.length = 0;
	a.dev.output(ip4('10.0.0.1', '10.0.0.2', 16), 0, 36);
	t.same(a.sent[0]?.dst.src, LOCAL, 'datagrams to b go from it');
	t.equal(a.sent[0]?.dst.src_ifindex, 3);

	a.dev.peers_clear_src();
	a.sent.length = 0;
	a.dev.output(ip4('10.0.0.1', '10.0.0.2', 16), 0, 36);
	t.equal(a.sent[0]?.dst.src_ifindex, 0, 'forgotten when the host\'s addresses change');
	net.pump();
	b.dev.output(ip4('10.0.0.2', '10.0.0.1', 16), 0, 36);
	net.pump();
	t.equal(a.dev.peer_info(a_peer).endpoint?.src_ifindex, 3, 'learnt again from b\'s next datagram');

	a.dev.peer_set_endpoint(a_peer, { ...b.ep, src: LOCAL, src_ifindex: 3 });
	t.equal(a.dev.peer_info(a_peer).endpoint?.src_ifindex, 0, 'an endpoint set from outside has none');

	/* Relearn, then b goes quiet: the retransmitted initiation goes without the source. */
	b.dev.output(ip4('10.0.0.2', '10.0.0.1', 16), 0, 36);
	net.pump();
	t.equal(a.dev.peer_info(a_peer).endpoint?.src_ifindex, 3);
	net.filter = () => false;
	a.sent.length = 0;
	net.advance(130_000);
	a.dev.output(ip4('10.0.0.1', '10.0.0.2', 16), 0, 36);
	net.advance(6_000);
	const inits = a.sent.filter((d) => d.data[0] === 1);
	t.ok(inits.length >= 2, 'a retransmitted its initiation', { n: inits.length });
	t.equal(inits[0]?.dst.src_ifindex, 3, 'the first initiation went from the sticky source');
	t.equal(inits[inits.length - 1]?.dst.src_ifindex, 0, 'the retransmission goes without the sticky source');
});
