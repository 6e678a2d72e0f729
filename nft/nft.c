/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "nft/nft_impl.h"

static const char *const obj_base_name[OBJ_COUNT] = {
	[OBJ_FWD4] = "fwd4", [OBJ_FWD4_FILTERED] = "fwd4_filtered", [OBJ_ALLOW4] = "allow4",
	[OBJ_PINHOLE6] = "pinhole6", [OBJ_PINHOLE6_FILTERED] = "pinhole6_filtered",
	[OBJ_HAIRPIN4] = "hairpin4", [OBJ_SEEN4] = "seen4", [OBJ_SEEN6] = "seen6",
	[OBJ_PEER4] = "peer4", [OBJ_PREROUTING] = "prerouting", [OBJ_POSTROUTING] = "postrouting",
	[OBJ_FORWARD] = "forward", [OBJ_LIMIT4] = "limit4", [OBJ_LIMIT6] = "limit6",
	[OBJ_LIMITED4] = "limited4", [OBJ_LIMITED6] = "limited6",
	[OBJ_METER4_REMOTE] = "meter4_remote", [OBJ_METER4_TOTAL] = "meter4_total",
	[OBJ_METER6_REMOTE] = "meter6_remote", [OBJ_METER6_TOTAL] = "meter6_total",
	[OBJ_OVER_LIMIT] = "over_limit", [OBJ_LIMIT_CHAIN] = "limit_class1",
	[OBJ_LIMIT_CHAIN + 1] = "limit_class2", [OBJ_LIMIT_CHAIN + 2] = "limit_class3",
	[OBJ_LIMIT_CHAIN + 3] = "limit_class4", [OBJ_LIMIT_CHAIN + 4] = "limit_class5",
	[OBJ_LIMIT_CHAIN + 5] = "limit_class6", [OBJ_LIMIT_CHAIN + 6] = "limit_class7",
	[OBJ_LIMIT_CHAIN + 7] = "limit_class8",
};
_Static_assert(POLICY_MAX_LIMITS == 8, "a limit chain's name for each class");

void nft_txn_start(struct nft *n, struct batch *bt)
{
	bt->b = mnl_nlmsg_batch_start(bt->buf, BATCH_LIMIT);
	bt->begin_seq = n->seq;
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), n->seq++);
	mnl_nlmsg_batch_next(bt->b);
	bt->last = NULL;
	bt->overflow = false;
}

struct nlmsghdr *nft_txn_msg(struct nft *n, struct batch *bt, uint16_t type, uint16_t flags)
{
	bt->last = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), type, NFPROTO_INET,
					 flags, n->seq++);
	return bt->last;
}

void nft_txn_next(struct batch *bt)
{
	if (!mnl_nlmsg_batch_next(bt->b))
		bt->overflow = true;
}

/*
 * The kernel runs an nfnetlink batch to completion inside sendmsg(), so by
 * the time send returns every answer is already queued on our socket:
 * reading them with MSG_DONTWAIT never waits, and an empty queue before the
 * last one means something is wrong, not slow. That keeps the event loop
 * unblocked without a state machine per batch.
 *
 * Only the last message asks for an ACK. The kernel reports an error for
 * every message that fails whether asked or not, and goes on to the end of
 * the batch before it rolls the whole batch back; so the last message's
 * ACK comes after every error, and one answer per batch is the usual cost
 * (one per message made the kernel build and us read hundreds for a batch
 * of many mappings).
 */
int nft_txn_commit(struct nft *n, struct batch *bt)
{
	char rbuf[16384];
	uint32_t last_seq;
	int first_error = 0;
	bool done = false;

	nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), n->seq++);
	if (!bt->last || bt->overflow || !mnl_nlmsg_batch_next(bt->b)) {
		mnl_nlmsg_batch_stop(bt->b);
		return bt->last ? -EMSGSIZE : 0;
	}
	bt->last->nlmsg_flags |= NLM_F_ACK;
	last_seq = bt->last->nlmsg_seq;

	if (mnl_socket_sendto(n->nl, mnl_nlmsg_batch_head(bt->b), mnl_nlmsg_batch_size(bt->b)) < 0) {
		int e = errno;
		mnl_nlmsg_batch_stop(bt->b);
		return -e;
	}
	mnl_nlmsg_batch_stop(bt->b);

	while (!done) {
		ssize_t len = recv(mnl_socket_get_fd(n->nl), rbuf, sizeof(rbuf), MSG_DONTWAIT);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		int remaining = (int)len;  /* libmnl counts in int */

		for (const struct nlmsghdr *nlh = (const struct nlmsghdr *)rbuf;
		     nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nlh->nlmsg_seq < bt->begin_seq || nlh->nlmsg_seq > last_seq)
				continue;  /* a late answer to an earlier batch */
			if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
				return -EPROTO;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error != 0 && first_error == 0)
				first_error = e->error;
			/* The last message's answer; or, out of memory, the
			 * kernel's one answer to the whole batch. */
			if (nlh->nlmsg_seq == last_seq || nlh->nlmsg_seq == bt->begin_seq)
				done = true;
		}
	}
	if (first_error)
		return first_error;
	return done ? 0 : -EPROTO;
}


/*
 * Sends one request and hands each answer of ours to each(answer, arg),
 * up to the ACK or the end of a dump. Like a batch, a request is answered
 * inside sendmsg() (a dump's further parts inside recv()), so MSG_DONTWAIT
 * reads never wait. Returns 0 or the kernel's error, -ENOENT included:
 * what was asked for is not there.
 */
int nft_ask(struct nft *n, const struct nlmsghdr *request, char *buf, size_t buflen,
	    int (*each)(const struct nlmsghdr *answer, void *arg), void *arg)
{
	uint32_t seq = request->nlmsg_seq;

	if (mnl_socket_sendto(n->nl, request, request->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(mnl_socket_get_fd(n->nl), buf, buflen, MSG_DONTWAIT);
		int remaining = (int)len;

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			return errno == EAGAIN ? -EPROTO : -errno;
		for (const struct nlmsghdr *r = (const struct nlmsghdr *)buf;
		     nlmsg_ok(r, remaining); r = mnl_nlmsg_next(r, &remaining)) {
			if (r->nlmsg_seq != seq)
				continue;  /* a late answer to something earlier */
			if (r->nlmsg_type == NLMSG_DONE)
				return 0;
			if (r->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = mnl_nlmsg_get_payload(r);

				if (mnl_nlmsg_get_payload_len(r) < sizeof(*err))
					return -EPROTO;
				return err->error;
			}
			if (each(r, arg) < 0)
				return -ENOMEM;
		}
	}
}

struct dump_answers {
	struct nft *n;
	struct found *found;
	int (*each)(const struct nlmsghdr *, const struct nft *, struct found *);
};

static int dump_answer(const struct nlmsghdr *answer, void *arg)
{
	struct dump_answers *d = arg;

	return d->each(answer, d->n, d->found);
}

/* Dumps objects of one type (a nftnl object, in the form its build
 * function puts) and hands each to each(nlh, found). */
int nft_dump(struct nft *n, uint16_t type, void (*build)(struct nlmsghdr *, const struct nft *),
	     int (*each)(const struct nlmsghdr *, const struct nft *, struct found *),
	     struct found *f)
{
	/* The kernel sizes a dump's parts by the reader's buffer, up to 32 KiB
	 * and more: a smaller one would cut messages. One process, one dump
	 * at a time. */
	static char buf[DUMP_BUFFER_SIZE];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, NLM_F_DUMP, n->seq++);
	struct dump_answers d = { .n = n, .found = f, .each = each };
	int rc;

	build(nlh, n);
	rc = nft_ask(n, nlh, buf, sizeof(buf), dump_answer, &d);
	return rc == -ENOENT ? 0 : rc;
}

static int create_table(struct nft *n)
{
	return nft_integrated(n) ? nft_create_in_firewall_table(n) : nft_create_own_table(n);
}

struct nft *nft_open(const char *table, const char *forward_chain, const char *external_ifname,
		     uint32_t pinhole_mark, const struct inbound_limit *limits, size_t nlimits,
		     char *err, size_t errlen)
{
	struct nft *n = calloc(1, sizeof(*n));
	int one = 1, rc;

	if (!n) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (forward_chain && strncmp(forward_chain, INTEGRATED_PREFIX,
				     strlen(INTEGRATED_PREFIX)) == 0) {
		snprintf(err, errlen, "chain %s is one of portleased's own; name the firewall's "
			 "forward chain", forward_chain);
		free(n);
		return NULL;
	}
	snprintf(n->table, sizeof(n->table), "%s", table);
	snprintf(n->forward_chain, sizeof(n->forward_chain), "%s", forward_chain ? forward_chain : "");
	for (enum obj o = 0; o < OBJ_COUNT; o++)
		snprintf(n->name[o], sizeof(n->name[o]), "%s%s",
			 nft_integrated(n) ? INTEGRATED_PREFIX : "", obj_base_name[o]);
	snprintf(n->ext_ifname, sizeof(n->ext_ifname), "%s", external_ifname);
	n->pinhole_mark = pinhole_mark;
	nft_set_limits(n, limits, nlimits);
	n->seq = 1;
	n->batch = malloc(sizeof(*n->batch));
	n->elements = nft_elements_alloc();
	if (!n->batch || !n->elements) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	n->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!n->nl || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		goto fail;
	}
	/* ACKs for failed messages then carry the header only, not a copy of
	 * the whole request. */
	mnl_socket_setsockopt(n->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	n->portid = mnl_socket_get_portid(n->nl);

	rc = create_table(n);
	if (rc < 0 && nft_integrated(n) && (rc == -ENOENT || rc == -ENOTDIR)) {
		snprintf(err, errlen, "firewall_integration: table inet %s has no chain %s on the "
			 "forward hook%s", table, forward_chain,
			 rc == -ENOENT ? " (is the firewall running? does `nft list chains inet` "
					 "show it?)" : " (the chain of that name is not a base "
					 "chain on the forward hook)");
		goto fail;
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot create portleased's nftables %s inet %s: %s%s",
			 nft_integrated(n) ? "chains and sets in table" : "table", table,
			 strerror(-rc),
			 rc == -EPERM ? " (portleased needs CAP_NET_ADMIN)" :
			 rc == -ENOENT || rc == -EOPNOTSUPP ?
				 " (is the kernel built with nf_tables, nft_nat and nft_ct?)" : "");
		goto fail;
	}
	return n;
fail:
	if (n->nl)
		mnl_socket_close(n->nl);
	free(n->batch);
	free(n->elements);
	free(n);
	return NULL;
}

int nft_set_hairpin_address(struct nft *n, const struct in_addr *addr)
{
	int rc;

	if (n->has_hairpin_address == (addr != NULL) &&
	    (!addr || n->hairpin_address.s_addr == addr->s_addr))
		return 0;
	nft_txn_start(n, n->batch);
	if (n->has_hairpin_address)
		nft_put_hairpin_address(n, n->batch, NFT_MSG_DELSETELEM, n->hairpin_address);
	if (addr)
		nft_put_hairpin_address(n, n->batch, NFT_MSG_NEWSETELEM, *addr);
	rc = nft_txn_commit(n, n->batch);
	if (rc == 0) {
		n->has_hairpin_address = addr != NULL;
		if (addr)
			n->hairpin_address = *addr;
	}
	return rc;
}

int nft_rebuild(struct nft *n)
{
	return create_table(n);
}

int nft_intact(struct nft *n)
{
	struct found f;
	int rc;

	if ((rc = nft_find_ours(n, &f)) < 0)
		return rc;
	if (nft_integrated(n) && f.njumps != 1)
		return 0;
	if ((rc = nft_dump(n, NFT_MSG_GETRULE, nft_build_table_rule_dump, nft_count_rule, &f)) < 0)
		return rc;
	for (enum obj o = 0; o < OBJ_COUNT; o++)
		if (nft_obj_made(n, o) &&
		    (!f.obj[o] || (o >= OBJ_SET_COUNT && f.rules[o] != n->rules_made[o])))
			return 0;
	return 1;
}

uint32_t nft_portid(const struct nft *n)
{
	return n->portid;
}

const char *nft_table_name(const struct nft *n)
{
	return n->table;
}

void nft_close(struct nft *n, int remove_table)
{
	if (!n)
		return;
	if (remove_table && nft_integrated(n)) {
		struct found f;

		if (nft_find_ours(n, &f) == 0) {
			nft_txn_start(n, n->batch);
			nft_put_delete_ours(n, n->batch, &f);
			nft_txn_commit(n, n->batch);
		}
	} else if (remove_table) {
		nft_txn_start(n, n->batch);
		nft_put_table(n, n->batch, NFT_MSG_DELTABLE, 0);
		nft_txn_commit(n, n->batch);
	}
	mnl_socket_close(n->nl);
	free(n->batch);
	free(n->elements);
	free(n);
}
