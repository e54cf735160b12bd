/* ike-mangle.c: a deliberately broken "IPsec helper" middlebox.
 *
 * Reads IPv4 packets from an NFQUEUE, finds IKE messages (UDP 500, or UDP
 * 4500 after the 4-byte non-ESP marker), walks the ISAKMP payload chain and,
 * in the first COUNT messages that carry a payload of type PTYPE, XORs the
 * byte at OFFSET inside that payload's body (after its 4-byte generic
 * header) with 0xFF. Then it recomputes the UDP checksum and gives the
 * packet back (NF_ACCEPT with the new payload). Every edit is logged on
 * stdout as one line of key=value pairs (the lab's truth file uses it).
 *
 * usage: ike-mangle QUEUE PTYPE OFFSET [COUNT]
 *   PTYPE: ISAKMP payload type (13 vendor ID, 20 NAT-D (RFC 3947), 130
 *          NAT-D (draft), ...)
 * Build: gcc -o ike-mangle ike-mangle.c -lnetfilter_queue -lmnl
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

static int ptype, offset, count = 1, done;

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;
	for (i = 0; i + 1 < n; i += 2)
		s += (p[i] << 8) | p[i + 1];
	if (n & 1)
		s += p[n - 1] << 8;
	return s;
}

static void udp_checksum(uint8_t *ip, uint8_t *udp, size_t ulen)
{
	uint32_t s = 0;
	uint16_t c;

	udp[6] = udp[7] = 0;
	s = csum_add(s, ip + 12, 8);          /* src + dst */
	s += 17;                               /* protocol */
	s += ulen;
	s = csum_add(s, udp, ulen);
	c = csum_fold(s);
	if (c == 0)
		c = 0xffff;
	udp[6] = c >> 8;
	udp[7] = c & 0xff;
}

/* returns the offset (from the UDP payload) of the edited byte, or -1 */
static int mangle(uint8_t *pkt, int len, uint8_t *old, uint8_t *new, int *msgpos)
{
	int ihl, ulen, sport, dport, pos, next, plen;
	uint8_t *udp, *ike;

	if (len < 20 || (pkt[0] >> 4) != 4 || pkt[9] != 17)
		return -1;
	if ((pkt[6] & 0x3f) || pkt[7])         /* fragments: leave alone */
		return -1;
	ihl = (pkt[0] & 0xf) * 4;
	if (len < ihl + 8)
		return -1;
	udp = pkt + ihl;
	sport = (udp[0] << 8) | udp[1];
	dport = (udp[2] << 8) | udp[3];
	ulen = (udp[4] << 8) | udp[5];
	if (ulen > len - ihl || ulen < 8)
		return -1;
	ike = udp + 8;
	pos = 0;
	if (sport == 4500 || dport == 4500 || (sport != 500 && dport != 500)) {
		if (ulen < 8 + 4 || memcmp(ike, "\0\0\0\0", 4))
			return -1;                 /* ESP or keepalive */
		pos = 4;
	}
	*msgpos = pos;
	if (ulen - 8 < pos + 28)
		return -1;
	next = ike[pos + 16];
	pos += 28;
	while (next && pos + 4 <= ulen - 8) {
		plen = (ike[pos + 2] << 8) | ike[pos + 3];
		if (plen < 4 || pos + plen > ulen - 8)
			return -1;
		if (next == ptype && offset < plen - 4) {
			int at = pos + 4 + offset;
			*old = ike[at];
			ike[at] ^= 0xff;
			*new = ike[at];
			udp_checksum(pkt, udp, ulen);
			return at;
		}
		next = ike[pos];
		pos += plen;
	}
	return -1;
}

static int cb(struct nfq_q_handle *qh, struct nfgenmsg *nfmsg, struct nfq_data *nfa, void *data)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	uint32_t id = ph ? ntohl(ph->packet_id) : 0;
	unsigned char *p;
	int len = nfq_get_payload(nfa, &p);
	uint8_t old = 0, new = 0;
	int at, msgpos = 0;
	(void)nfmsg; (void)data;

	if (len > 0 && done < count && (at = mangle(p, len, &old, &new, &msgpos)) >= 0) {
		struct timeval tv;
		char src[16], dst[16];
		int ihl = (p[0] & 0xf) * 4;

		done++;
		gettimeofday(&tv, NULL);
		inet_ntop(AF_INET, p + 12, src, sizeof(src));
		inet_ntop(AF_INET, p + 16, dst, sizeof(dst));
		printf("time=%ld.%06ld src=%s:%d dst=%s:%d icookie=%02x%02x%02x%02x%02x%02x%02x%02x "
		       "payload_type=%d offset_in_payload_body=%d offset_in_udp_payload=%d "
		       "offset_in_ike_message=%d old=0x%02x new=0x%02x\n",
		       (long)tv.tv_sec, (long)tv.tv_usec, src, (p[ihl] << 8) | p[ihl + 1],
		       dst, (p[ihl + 2] << 8) | p[ihl + 3],
		       p[ihl + 8 + msgpos], p[ihl + 9 + msgpos], p[ihl + 10 + msgpos], p[ihl + 11 + msgpos],
		       p[ihl + 12 + msgpos], p[ihl + 13 + msgpos], p[ihl + 14 + msgpos], p[ihl + 15 + msgpos],
		       ptype, offset, at, at - msgpos, old, new);
		fflush(stdout);
		return nfq_set_verdict(qh, id, NF_ACCEPT, len, p);
	}
	return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
}

int main(int argc, char **argv)
{
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	char buf[65536] __attribute__((aligned));
	int fd, rv;

	if (argc < 4) {
		fprintf(stderr, "usage: %s QUEUE PTYPE OFFSET [COUNT]\n", argv[0]);
		return 2;
	}
	ptype = atoi(argv[2]);
	offset = atoi(argv[3]);
	if (argc > 4)
		count = atoi(argv[4]);
	h = nfq_open();
	if (!h) {
		perror("nfq_open");
		return 1;
	}
	qh = nfq_create_queue(h, atoi(argv[1]), &cb, NULL);
	if (!qh) {
		perror("nfq_create_queue");
		return 1;
	}
	if (nfq_set_mode(qh, NFQNL_COPY_PACKET, 0xffff) < 0) {
		perror("nfq_set_mode");
		return 1;
	}
	fprintf(stderr, "ike-mangle: queue %s, payload type %d, offset %d, count %d\n",
		argv[1], ptype, offset, count);
	fd = nfq_fd(h);
	for (;;) {
		rv = recv(fd, buf, sizeof(buf), 0);
		if (rv < 0) {
			if (errno == ENOBUFS || errno == EINTR)
				continue;
			perror("recv");
			break;
		}
		nfq_handle_packet(h, buf, rv);
	}
	nfq_destroy_queue(qh);
	nfq_close(h);
	return 0;
}
