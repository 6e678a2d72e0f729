/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "priv/forwards.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <net/if.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "lib/nlmsg.h"

/* What a register holds, as far as forwarding goes. */
enum reg_kind { REG_OTHER, REG_L4PROTO, REG_DPORT, REG_IIFNAME, REG_IIF };

struct walk {
	uint8_t kind[NFT_REG32_COUNT];  /* per 32-bit register */
	const char *ext_ifname;
	unsigned ext_ifindex;
	struct forward_rule *out;
	bool proto_said;
	int lo, hi;  /* a dport's ">=" and "<=", -1 when not (yet) seen */
};

/* The 32-bit register a 128-bit or 32-bit register number starts at. */
static int slot(uint32_t reg)
{
	if (reg >= NFT_REG32_00 && reg <= NFT_REG32_15)
		return (int)(reg - NFT_REG32_00);
	if (reg >= NFT_REG_1 && reg <= NFT_REG_4)
		return (int)(reg - NFT_REG_1) * 4;
	return -1;
}

static enum reg_kind kind_of(const struct walk *w, const struct nftnl_expr *e, uint16_t attr)
{
	int s = nftnl_expr_is_set(e, attr) ? slot(nftnl_expr_get_u32(e, attr)) : -1;

	return s < 0 ? REG_OTHER : (enum reg_kind)w->kind[s];
}

static void set_kind(struct walk *w, const struct nftnl_expr *e, uint16_t attr, enum reg_kind k)
{
	int s = nftnl_expr_is_set(e, attr) ? slot(nftnl_expr_get_u32(e, attr)) : -1;

	if (s >= 0)
		w->kind[s] = (uint8_t)k;
}

static void add_range(struct forward_rule *out, uint16_t lo, uint16_t hi)
{
	if (out->nranges < FORWARD_RULE_RANGES && lo <= hi) {
		out->ranges[out->nranges].lo = lo;
		out->ranges[out->nranges].hi = hi;
		out->nranges++;
	}
}

static uint16_t port_of(const void *data)
{
	const uint8_t *b = data;

	return (uint16_t)(b[0] << 8 | b[1]);
}

static void read_meta(struct walk *w, const struct nftnl_expr *e)
{
	uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);

	if (!nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG))
		return;
	set_kind(w, e, NFTNL_EXPR_META_DREG,
		 key == NFT_META_L4PROTO ? REG_L4PROTO :
		 key == NFT_META_IIFNAME ? REG_IIFNAME :
		 key == NFT_META_IIF ? REG_IIF : REG_OTHER);
}

static void read_payload(struct walk *w, const struct nftnl_expr *e)
{
	uint32_t base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
	uint32_t offset = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
	uint32_t len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
	enum reg_kind k = REG_OTHER;

	if (!nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG))
		return;
	if (base == NFT_PAYLOAD_TRANSPORT_HEADER && offset == 2 && len == 2)
		k = REG_DPORT;  /* tcp, udp or th dport */
	else if (base == NFT_PAYLOAD_NETWORK_HEADER && offset == 9 && len == 1)
		k = REG_L4PROTO;  /* ip protocol */
	set_kind(w, e, NFTNL_EXPR_PAYLOAD_DREG, k);
}

/* An iifname match's data: a name, NUL-padded, or a prefix ("eth*")
 * without the NUL. */
static bool names_external(const char *ext_ifname, const void *data, uint32_t len)
{
	const char *name = data;
	size_t n = strnlen(name, len);

	if (n == len)  /* a prefix */
		return strncmp(ext_ifname, name, n) == 0;
	return strlen(ext_ifname) == n && memcmp(ext_ifname, name, n) == 0;
}

static void read_cmp(struct walk *w, const struct nftnl_expr *e)
{
	uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), len = 0;
	const void *data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);

	if (!data)
		return;
	switch (kind_of(w, e, NFTNL_EXPR_CMP_SREG)) {
	case REG_L4PROTO:
		if (op == NFT_CMP_EQ && len == 1) {
			uint8_t proto = *(const uint8_t *)data;

			w->out->tcp = !w->proto_said ? proto == 6 : w->out->tcp && proto == 6;
			w->out->udp = !w->proto_said ? proto == 17 : w->out->udp && proto == 17;
			w->proto_said = true;
		}
		break;
	case REG_DPORT:
		if (len != 2)
			break;
		if (op == NFT_CMP_EQ)
			add_range(w->out, port_of(data), port_of(data));
		else if (op == NFT_CMP_GTE)
			w->lo = port_of(data);
		else if (op == NFT_CMP_LTE)
			w->hi = port_of(data);
		break;
	case REG_IIFNAME:
		if (op == NFT_CMP_EQ && !names_external(w->ext_ifname, data, len))
			w->out->not_from_wan = true;
		break;
	case REG_IIF:
		if (op == NFT_CMP_EQ && len == 4 && *(const uint32_t *)data != w->ext_ifindex)
			w->out->not_from_wan = true;
		break;
	default:
		break;
	}
}

static void read_range(struct walk *w, const struct nftnl_expr *e)
{
	uint32_t from_len = 0, to_len = 0;
	const void *from = nftnl_expr_get(e, NFTNL_EXPR_RANGE_FROM_DATA, &from_len);
	const void *to = nftnl_expr_get(e, NFTNL_EXPR_RANGE_TO_DATA, &to_len);

	if (kind_of(w, e, NFTNL_EXPR_RANGE_SREG) == REG_DPORT &&
	    nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_OP) == NFT_RANGE_EQ && from && to &&
	    from_len == 2 && to_len == 2)
		add_range(w->out, port_of(from), port_of(to));
}

static void read_lookup(struct walk *w, const struct nftnl_expr *e)
{
	const char *set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
	bool inverted = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
			(nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV);

	switch (kind_of(w, e, NFTNL_EXPR_LOOKUP_SREG)) {
	case REG_L4PROTO:  /* meta l4proto { tcp, udp } */
		if (!w->proto_said)
			w->out->tcp = w->out->udp = true;
		w->proto_said = true;
		break;
	case REG_DPORT:
		if (set && !inverted)
			snprintf(w->out->set, sizeof(w->out->set), "%s", set);
		break;
	default:
		break;
	}
	set_kind(w, e, NFTNL_EXPR_LOOKUP_DREG, REG_OTHER);
}

static int read_expr(struct nftnl_expr *e, void *data)
{
	struct walk *w = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (!name)
		return 0;
	if (strcmp(name, "meta") == 0)
		read_meta(w, e);
	else if (strcmp(name, "payload") == 0)
		read_payload(w, e);
	else if (strcmp(name, "cmp") == 0)
		read_cmp(w, e);
	else if (strcmp(name, "range") == 0)
		read_range(w, e);
	else if (strcmp(name, "lookup") == 0)
		read_lookup(w, e);
	else if (strcmp(name, "nat") == 0)
		w->out->forwards |= nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE) == NFT_NAT_DNAT;
	else if (strcmp(name, "redir") == 0 || strcmp(name, "tproxy") == 0)
		w->out->forwards = true;
	else if (strcmp(name, "bitwise") == 0)
		set_kind(w, e, NFTNL_EXPR_BITWISE_DREG, REG_OTHER);
	else if (strcmp(name, "immediate") == 0)
		set_kind(w, e, NFTNL_EXPR_IMM_DREG, REG_OTHER);
	return 0;
}

void forwards_read_rule(const struct nftnl_rule *r, const char *ext_ifname, unsigned ext_ifindex,
			struct forward_rule *out)
{
	struct walk w = { .ext_ifname = ext_ifname, .ext_ifindex = ext_ifindex, .out = out,
			  .lo = -1, .hi = -1 };

	memset(out, 0, sizeof(*out));
	/* nftnl_expr_foreach takes a non-const rule, and changes nothing */
	nftnl_expr_foreach((struct nftnl_rule *)(uintptr_t)r, read_expr, &w);
	if (w.lo >= 0 || w.hi >= 0)
		add_range(out, (uint16_t)(w.lo >= 0 ? w.lo : 0), (uint16_t)(w.hi >= 0 ? w.hi : 65535));
	if (!w.proto_said)
		out->tcp = out->udp = true;
}

static void mark(struct forwarded_ports *f, bool tcp, bool udp, uint16_t lo, uint16_t hi)
{
	for (uint32_t p = lo; p <= hi; p++) {
		if (tcp)
			f->tcp.w[p / 64] |= 1ull << (p % 64);
		if (udp)
			f->udp.w[p / 64] |= 1ull << (p % 64);
	}
}

void forwards_mark(struct forwarded_ports *f, const struct forward_rule *rule)
{
	if (!rule->forwards || rule->not_from_wan)
		return;
	for (size_t i = 0; i < rule->nranges; i++)
		mark(f, rule->tcp, rule->udp, rule->ranges[i].lo, rule->ranges[i].hi);
	if (rule->nranges)
		f->rules++;
}

struct element {
	uint16_t key;
	bool is_end;
};

static int by_key(const void *a, const void *b)
{
	const struct element *x = a, *y = b;

	return (x->key > y->key) - (x->key < y->key);
}

void forwards_mark_elements(struct forwarded_ports *f, bool tcp, bool udp, uint16_t *keys,
			    bool *is_end, size_t n)
{
	static struct element sorted[FORWARDS_ELEMENTS_MAX];
	bool intervals = false;
	int open = -1;

	if (n > FORWARDS_ELEMENTS_MAX)
		n = FORWARDS_ELEMENTS_MAX;
	for (size_t i = 0; i < n; i++) {
		sorted[i] = (struct element){ .key = keys[i], .is_end = is_end[i] };
		intervals |= is_end[i];
	}
	if (!intervals) {
		for (size_t i = 0; i < n; i++)
			mark(f, tcp, udp, keys[i], keys[i]);
		return;
	}
	/* An interval runs from its start to the next end, exclusive; an end
	 * with nothing open is the gap before the first one. */
	qsort(sorted, n, sizeof(sorted[0]), by_key);
	for (size_t i = 0; i < n; i++) {
		if (!sorted[i].is_end) {
			if (open < 0)
				open = sorted[i].key;
		} else if (open >= 0) {
			if (sorted[i].key > open)
				mark(f, tcp, udp, (uint16_t)open, (uint16_t)(sorted[i].key - 1));
			open = -1;
		}
	}
	if (open >= 0)
		mark(f, tcp, udp, (uint16_t)open, 65535);
}

/* The kernel sizes a dump's parts by the reader's buffer. */
#define DUMP_BUFFER_SIZE (64 * 1024)
#define REQUEST_BUFFER_SIZE 8192
#define SETS_MAX 64
/* Our own element changes are notices too, read and skipped: a burst of
 * them must not look like lost notices. */
#define NOTICE_READS_MAX 1024
#define NOTICE_RCVBUF (4 << 20)
#define NAME_MAX_LEN 64
#define OURS_PREFIX "portleased_"

struct set_ref {
	uint32_t family;
	char table[NAME_MAX_LEN], set[NAME_MAX_LEN];
	bool tcp, udp;
};

struct forwards {
	struct mnl_socket *dump, *notices;
	uint32_t seq, own_portid;
	char table[NAME_MAX_LEN], forward_chain[NAME_MAX_LEN];
	char ext_ifname[NAME_MAX_LEN];
	bool stale, readable;
	struct forwarded_ports ports;
	struct set_ref sets[SETS_MAX];
	size_t nsets;
	size_t nelements;
	uint16_t keys[FORWARDS_ELEMENTS_MAX];
	bool is_end[FORWARDS_ELEMENTS_MAX];
};

static bool is_ours(const struct forwards *fw, uint32_t family, const char *table,
		    const char *chain)
{
	if (family != NFPROTO_INET || strcmp(table, fw->table) != 0)
		return false;
	return !fw->forward_chain[0] || strncmp(chain, OURS_PREFIX, strlen(OURS_PREFIX)) == 0;
}

/* One dump: each answer to each(nlh, fw); 0 or a negative errno. */
static int dump(struct forwards *fw, struct nlmsghdr *request,
		int (*each)(const struct nlmsghdr *nlh, struct forwards *fw))
{
	static char buf[DUMP_BUFFER_SIZE];
	uint32_t seq = request->nlmsg_seq;

	if (mnl_socket_sendto(fw->dump, request, request->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t len = mnl_socket_recvfrom(fw->dump, buf, sizeof(buf));
		int left = (int)len;

		if (len < 0)
			return -errno;
		for (const struct nlmsghdr *h = (const void *)buf; nlmsg_ok(h, left);
		     h = mnl_nlmsg_next(h, &left)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = mnl_nlmsg_get_payload(h);

				if (mnl_nlmsg_get_payload_len(h) < sizeof(*err))
					return -EPROTO;
				return err->error == -ENOENT ? 0 : err->error;
			}
			if (each(h, fw) < 0)
				return -ENOMEM;
		}
	}
}

static void note_set(struct forwards *fw, uint32_t family, const char *table,
		     const struct forward_rule *rule)
{
	struct set_ref *s;

	if (fw->nsets == SETS_MAX) {
		log_warnx("forwarded ports: more than %d port sets in forwarding rules; "
			  "the ports of the others are not kept from clients", SETS_MAX);
		return;
	}
	s = &fw->sets[fw->nsets++];
	s->family = family;
	snprintf(s->table, sizeof(s->table), "%s", table);
	snprintf(s->set, sizeof(s->set), "%s", rule->set);
	s->tcp = rule->tcp;
	s->udp = rule->udp;
}

static int each_rule(const struct nlmsghdr *nlh, struct forwards *fw)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct forward_rule rule;
	const char *table, *chain;
	uint32_t family;

	if (!r)
		return -1;
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0 &&
	    (table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE)) &&
	    (chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN))) {
		family = nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY);
		if (!is_ours(fw, family, table, chain)) {
			forwards_read_rule(r, fw->ext_ifname, if_nametoindex(fw->ext_ifname), &rule);
			if (rule.forwards && !rule.not_from_wan && rule.set[0])
				note_set(fw, family, table, &rule);
			else
				forwards_mark(&fw->ports, &rule);
		}
	}
	nftnl_rule_free(r);
	return 0;
}

static int collect_element(struct nftnl_set_elem *e, void *data)
{
	struct forwards *fw = data;
	uint32_t len = 0;
	const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	uint32_t flags = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) ?
				 nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) : 0;

	/* Ports only: a concatenation's keys are longer. */
	if (!key || len != 2 || fw->nelements == FORWARDS_ELEMENTS_MAX)
		return 0;
	fw->keys[fw->nelements] = port_of(key);
	fw->is_end[fw->nelements++] = flags & NFT_SET_ELEM_INTERVAL_END;
	return 0;
}

static int each_elements(const struct nlmsghdr *nlh, struct forwards *fw)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return -1;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) >= 0)
		nftnl_set_elem_foreach(s, collect_element, fw);
	nftnl_set_free(s);
	return 0;
}

static int read_set(struct forwards *fw, const struct set_ref *ref)
{
	static char buf[REQUEST_BUFFER_SIZE];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (uint16_t)ref->family,
						     NLM_F_DUMP, ++fw->seq);
	struct nftnl_set *s = nftnl_set_alloc();
	int rc;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, ref->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, ref->set);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	fw->nelements = 0;
	if ((rc = dump(fw, nlh, each_elements)) == 0 && fw->nelements) {
		forwards_mark_elements(&fw->ports, ref->tcp, ref->udp, fw->keys, fw->is_end,
				       fw->nelements);
		fw->ports.rules++;
	}
	return rc;
}

static int read_all(struct forwards *fw)
{
	static char buf[REQUEST_BUFFER_SIZE];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_UNSPEC,
						     NLM_F_DUMP, ++fw->seq);
	int rc;

	memset(&fw->ports, 0, sizeof(fw->ports));
	fw->nsets = 0;
	if ((rc = dump(fw, nlh, each_rule)) < 0)
		return rc;
	for (size_t i = 0; i < fw->nsets; i++)
		if ((rc = read_set(fw, &fw->sets[i])) < 0)
			return rc;
	return 0;
}

bool forwards_changed_by_notice(const void *buf, size_t len, uint32_t own_portid)
{
	int left = (int)(len > INT32_MAX ? INT32_MAX : len);

	for (const struct nlmsghdr *h = buf; nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left)) {
		if (NFNL_SUBSYS_ID(h->nlmsg_type) != NFNL_SUBSYS_NFTABLES || h->nlmsg_pid == own_portid)
			continue;
		switch (NFNL_MSG_TYPE(h->nlmsg_type)) {
		case NFT_MSG_NEWRULE:
		case NFT_MSG_DELRULE:
		case NFT_MSG_NEWSETELEM:
		case NFT_MSG_DELSETELEM:
		case NFT_MSG_DELSET:
		case NFT_MSG_DELCHAIN:
		case NFT_MSG_DELTABLE:
			return true;
		default:
			break;
		}
	}
	return false;
}

/* Reads what notices wait, without blocking; marks the ports stale if any
 * says rules or sets changed, or if notices were lost or left unread. */
static void drain_notices(struct forwards *fw)
{
	static char buf[DUMP_BUFFER_SIZE];

	for (int i = 0; i < NOTICE_READS_MAX; i++) {
		ssize_t len = recv(mnl_socket_get_fd(fw->notices), buf, sizeof(buf), MSG_DONTWAIT);

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0) {
			fw->stale |= errno == ENOBUFS;
			if (errno != ENOBUFS)
				return;
			continue;
		}
		fw->stale |= forwards_changed_by_notice(buf, (size_t)len, fw->own_portid);
	}
	fw->stale = true;  /* more than we read: assume the worst */
}

const struct forwarded_ports *forwards_current(struct forwards *fw)
{
	int rc;

	drain_notices(fw);
	if (!fw->stale && fw->readable)
		return &fw->ports;
	if ((rc = read_all(fw)) < 0) {
		log_warnx("forwarded ports: cannot read the ruleset: %s", strerror(-rc));
		fw->readable = false;
		return NULL;
	}
	fw->stale = false;
	fw->readable = true;
	log_debug("forwarded ports: %u forwarding rules of other tables", fw->ports.rules);
	return &fw->ports;
}

struct forwards *forwards_open(const char *table, const char *forward_chain,
			       const char *ext_ifname, uint32_t own_portid, char *err,
			       size_t errlen)
{
	struct forwards *fw = calloc(1, sizeof(*fw));
	int group = NFNLGRP_NFTABLES, size;

	if (!fw) {
		snprintf(err, errlen, "forwarded ports: out of memory");
		return NULL;
	}
	snprintf(fw->table, sizeof(fw->table), "%s", table);
	snprintf(fw->forward_chain, sizeof(fw->forward_chain), "%s", forward_chain ? forward_chain : "");
	snprintf(fw->ext_ifname, sizeof(fw->ext_ifname), "%s", ext_ifname);
	fw->own_portid = own_portid;
	fw->stale = true;
	fw->dump = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	fw->notices = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!fw->dump || !fw->notices || mnl_socket_bind(fw->dump, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_bind(fw->notices, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(fw->notices, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		snprintf(err, errlen, "forwarded ports: netlink: %s", strerror(errno));
		forwards_close(fw);
		return NULL;
	}
	size = NOTICE_RCVBUF;
	if (setsockopt(mnl_socket_get_fd(fw->notices), SOL_SOCKET, SO_RCVBUFFORCE, &size,
		       sizeof(size)) < 0)
		setsockopt(mnl_socket_get_fd(fw->notices), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return fw;
}

void forwards_close(struct forwards *fw)
{
	if (!fw)
		return;
	if (fw->dump)
		mnl_socket_close(fw->dump);
	if (fw->notices)
		mnl_socket_close(fw->notices);
	free(fw);
}
