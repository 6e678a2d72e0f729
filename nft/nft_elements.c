/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "nft/nft_impl.h"

/*
 * Keys and data as the kernel compares them: each member of a concatenation
 * in whole 32-bit registers, zero-padded, in network byte order.
 */
struct key {
	uint8_t bytes[MAX_KEY_LEN];
	uint32_t len;
};

static void key_put(struct key *k, const void *bytes, uint32_t len)
{
	memcpy(k->bytes + k->len, bytes, len);
	k->len += (len + 3) & ~3u;
}

static void key_put_port(struct key *k, uint16_t port)
{
	uint16_t be = htons(port);
	key_put(k, &be, 2);
}

static void key_put_v4(struct key *k, const struct in6_addr *a)
{
	key_put(k, &a->s6_addr[12], 4);
}

static void key_put_v6(struct key *k, const struct in6_addr *a)
{
	key_put(k, a->s6_addr, 16);
}

enum elem_op { ELEM_ADD, ELEM_DELETE };

/* One set element of a mapping. */
struct element {
	enum obj set;
	struct key key, key_end, data;  /* key_end, data: len 0 when absent */
	uint64_t timeout_ms;            /* an add's; 0: none (static) */
	uint8_t jump_class;             /* limit4, limit6: the class whose chain it jumps to */
};

/* Remote ranges, a PEER's outbound ones, plus allow4 (or pinhole6), plus
 * an inbound limit's two. */
#define MAPPING_MAX_ELEMENTS (FILTER_MAX_RANGES + FILTER_MAX + 3)
/* What one transaction of nft_mappings_apply holds at most: about 130
 * bytes each, well inside BATCH_LIMIT. */
#define TXN_MAX_ELEMENTS 256
/* A transaction's elements, and room for one more mapping's that may not
 * fit; then the same again to group them by set. */
#define SCRATCH_ELEMENTS (TXN_MAX_ELEMENTS + MAPPING_MAX_ELEMENTS)

struct element *nft_elements_alloc(void)
{
	return malloc(2 * SCRATCH_ELEMENTS * sizeof(struct element));
}

static bool is_forward(const struct nft_mapping *m)
{
	return IN6_IS_ADDR_V4MAPPED(&m->internal_addr);
}

/* The internal endpoint: allow4's key, pinhole6's, and the tail of
 * pinhole6_filtered's. */
static void key_put_internal(struct key *k, const struct nft_mapping *m)
{
	uint8_t proto = m->proto;

	if (is_forward(m))
		key_put_v4(k, &m->internal_addr);
	else
		key_put_v6(k, &m->internal_addr);
	key_put(k, &proto, 1);
	key_put_port(k, m->internal_port);
}

/* The remote range's first (or last) point, then the mapping's own fields. */
static void key_put_remote(struct key *k, const struct nft_mapping *m,
			   const struct remote_range *r, bool last)
{
	uint8_t proto = m->proto;

	if (is_forward(m)) {
		key_put_v4(k, last ? &r->last : &r->first);
		key_put_port(k, last ? r->port_last : r->port_first);
		key_put(k, &proto, 1);
		key_put_port(k, m->external_port);
	} else {
		key_put_v6(k, last ? &r->last : &r->first);
		key_put_port(k, last ? r->port_last : r->port_first);
		key_put_internal(k, m);
	}
}

/* A PEER's flows out: one peer4 element per remote (each a single address
 * and port), whose data is the external port they leave from. */
static size_t peer_elements(const struct nft_mapping *m, size_t nremotes, struct element *out)
{
	uint16_t external_be = htons(m->external_port);
	uint8_t proto = m->proto;
	size_t count = 0;

	for (size_t i = 0; i < nremotes && count < FILTER_MAX; i++) {
		const struct remote_range *r = &m->remotes[i];
		struct element *e = &out[count++];

		*e = (struct element){ .set = OBJ_PEER4, .timeout_ms = m->timeout_ms };
		key_put_v4(&e->key, &m->internal_addr);
		key_put_port(&e->key, m->internal_port);
		key_put_v4(&e->key, &r->first);
		key_put(&e->key, &proto, 1);
		key_put_port(&e->key, r->port_first);
		memcpy(e->data.bytes, &external_be, sizeof(external_be));
		e->data.len = sizeof(external_be);
	}
	return count;
}

/*
 * A forward: its DNAT element (fwd4, or one fwd4_filtered element per remote
 * range) and allow4 for the forward chain, and a PEER's peer4 elements. A
 * pinhole: pinhole6, or one pinhole6_filtered element per remote range.
 * With an inbound limit, either has limit4 (limit6), which sends its new
 * connections through its class's chain, and limited4 (limited6), which
 * counts what that turned away. Returns how many.
 */
static size_t mapping_elements(const struct nft_mapping *m, struct element *out)
{
	size_t count = 0, nremotes = m->nremotes < FILTER_MAX_RANGES ? m->nremotes :
								  FILTER_MAX_RANGES;
	struct key dnat_target = { .len = 0 };
	uint8_t proto = m->proto;

	if (is_forward(m)) {
		key_put_v4(&dnat_target, &m->internal_addr);
		key_put_port(&dnat_target, m->internal_port);
	}
	for (size_t i = 0; i < nremotes; i++) {
		struct element *e = &out[count++];
		*e = (struct element){ .set = is_forward(m) ? OBJ_FWD4_FILTERED :
							      OBJ_PINHOLE6_FILTERED,
				       .data = dnat_target, .timeout_ms = m->timeout_ms };
		key_put_remote(&e->key, m, &m->remotes[i], false);
		key_put_remote(&e->key_end, m, &m->remotes[i], true);
	}
	if (m->limit_class) {
		out[count] = (struct element){ .set = is_forward(m) ? OBJ_LIMIT4 : OBJ_LIMIT6,
					       .timeout_ms = m->timeout_ms,
					       .jump_class = m->limit_class };
		key_put_internal(&out[count++].key, m);
		out[count] = (struct element){ .set = is_forward(m) ? OBJ_LIMITED4 : OBJ_LIMITED6,
					       .timeout_ms = m->timeout_ms };
		key_put_internal(&out[count++].key, m);
	}
	if (!is_forward(m)) {
		if (nremotes == 0) {
			struct element *e = &out[count++];
			*e = (struct element){ .set = OBJ_PINHOLE6, .timeout_ms = m->timeout_ms };
			key_put_internal(&e->key, m);
		}
		return count;
	}
	if (nremotes == 0) {
		struct element *e = &out[count++];
		*e = (struct element){ .set = OBJ_FWD4, .data = dnat_target,
				       .timeout_ms = m->timeout_ms };
		key_put(&e->key, &proto, 1);
		key_put_port(&e->key, m->external_port);
	}
	out[count] = (struct element){ .set = OBJ_ALLOW4, .timeout_ms = m->timeout_ms };
	key_put_internal(&out[count++].key, m);
	if (m->peer)
		count += peer_elements(m, nremotes, &out[count]);
	return count;
}

/* Consecutive elements of the same set go in one message. An add refuses
 * a key that is there already (NLM_F_EXCL): without it the kernel keeps
 * the element it has, whatever that points at, and reports success, so a
 * client would be told of a mapping that leads elsewhere. */
static void put_elements(struct nft *n, struct batch *bt, enum elem_op op,
			 const struct element *elems, size_t count)
{
	for (size_t i = 0; i < count;) {
		struct nftnl_set *s = nftnl_set_alloc();
		enum obj set = elems[i].set;

		nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, n->name[set]);
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
		for (; i < count && elems[i].set == set; i++) {
			const struct element *e = &elems[i];
			struct nftnl_set_elem *el = nftnl_set_elem_alloc();

			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e->key.bytes, e->key.len);
			if (e->key_end.len)
				nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY_END, e->key_end.bytes,
						   e->key_end.len);
			if (op == ELEM_ADD) {
				if (e->data.len)
					nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, e->data.bytes,
							   e->data.len);
				if (e->jump_class) {
					nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
					nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN,
							       n->name[OBJ_LIMIT_CHAIN +
								       e->jump_class - 1]);
				}
				/* None: the element stays until deleted (static). */
				if (e->timeout_ms)
					nftnl_set_elem_set_u64(el, NFTNL_SET_ELEM_TIMEOUT,
							       e->timeout_ms);
			}
			nftnl_set_elem_add(s, el);
		}
		nftnl_set_elems_nlmsg_build_payload(
			nft_txn_msg(n, bt, op == ELEM_ADD ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
				  op == ELEM_ADD ? NLM_F_CREATE | NLM_F_EXCL : 0),
			s);
		nftnl_set_free(s);
		nft_txn_next(bt);
	}
}

/* Deletes the elements of del (if any), then adds those of add (if any), in
 * one atomic batch. */
static int run_mapping_ops(struct nft *n, const struct nft_mapping *del,
			   const struct nft_mapping *add)
{
	struct element *elems = n->elements;

	nft_txn_start(n, n->batch);
	if (del)
		put_elements(n, n->batch, ELEM_DELETE, elems, mapping_elements(del, elems));
	if (add)
		put_elements(n, n->batch, ELEM_ADD, elems, mapping_elements(add, elems));
	return nft_txn_commit(n, n->batch);
}

int nft_mapping_add(struct nft *n, const struct nft_mapping *m)
{
	return run_mapping_ops(n, NULL, m);
}

/*
 * Kernels before 6.10 keep an existing element's timeout on a plain add, so a
 * refresh is delete + add in one atomic batch. If the kernel expired some of
 * the old elements a moment before us, the delete fails with ENOENT and the
 * whole batch is rolled back: then delete what is left, and add.
 */
int nft_mapping_replace(struct nft *n, const struct nft_mapping *old, const struct nft_mapping *m)
{
	int rc = run_mapping_ops(n, old, m);

	if (rc == -ENOENT) {
		rc = nft_mapping_delete(n, old);
		if (rc == 0)
			rc = nft_mapping_add(n, m);
	}
	return rc;
}

int nft_mapping_renew(struct nft *n, const struct nft_mapping *m)
{
	return nft_mapping_replace(n, m, m);
}

/* One batch per element, so that one the kernel already expired does not
 * keep the others in place. */
static int delete_each_ignoring_absent(struct nft *n, const struct nft_mapping *m)
{
	size_t count = mapping_elements(m, n->elements);
	int first_error = 0;

	for (size_t i = 0; i < count; i++) {
		int rc;

		nft_txn_start(n, n->batch);
		put_elements(n, n->batch, ELEM_DELETE, &n->elements[i], 1);
		rc = nft_txn_commit(n, n->batch);
		if (rc < 0 && rc != -ENOENT && first_error == 0)
			first_error = rc;
	}
	return first_error;
}

static int read_element(struct nft *n, const struct element *e,
			int (*each)(struct nftnl_set_elem *el, void *data), struct nft_counters *sum);

/*
 * Asks first which elements the kernel still holds, and deletes those in
 * one transaction. A transaction the kernel refuses costs it milliseconds
 * of rollback (measured: 8 to 16 ms each on Linux 6.18), a question
 * microseconds; and when a lease ends, the kernel has usually expired
 * every element already, so nothing is left to delete.
 */
int nft_mapping_delete(struct nft *n, const struct nft_mapping *m)
{
	struct element *elems = n->elements;
	size_t count = mapping_elements(m, elems), held = 0;
	int rc;

	for (size_t i = 0; i < count; i++) {
		if ((rc = read_element(n, &elems[i], NULL, NULL)) < 0)
			return rc;
		if (rc == 1)
			elems[held++] = elems[i];
	}
	if (held == 0)
		return 0;
	nft_txn_start(n, n->batch);
	put_elements(n, n->batch, ELEM_DELETE, elems, held);
	rc = nft_txn_commit(n, n->batch);
	/* One expired between the question and the transaction. */
	return rc == -ENOENT ? delete_each_ignoring_absent(n, m) : rc;
}

/* count elements of one verb, grouped by set (in order within each), so
 * that each set gets one message: a run of adds or of deletes touches
 * distinct keys, so their order does not matter. */
static void put_grouped(struct nft *n, enum elem_op op, const struct element *elems,
			size_t count, struct element *sorted)
{
	size_t start[OBJ_SET_COUNT + 1] = { 0 };

	for (size_t i = 0; i < count; i++)
		start[elems[i].set + 1]++;
	for (size_t s = 1; s <= OBJ_SET_COUNT; s++)
		start[s] += start[s - 1];
	for (size_t i = 0; i < count; i++)
		sorted[start[elems[i].set]++] = elems[i];
	put_elements(n, n->batch, op, sorted, count);
}

/*
 * Verbs from verbs[first] on that fit one transaction (at least one), put
 * in the batch: each run of adds or deletes as one message per set.
 * Returns where the next transaction starts.
 */
static size_t put_transaction(struct nft *n, const struct nft_verb *verbs, size_t first,
			      size_t count)
{
	struct element *elems = n->elements, *sorted = n->elements + SCRATCH_ELEMENTS;
	size_t next = first, total = 0;

	while (next < count) {
		bool add = verbs[next].add;
		size_t run = 0, end = next;

		for (; end < count && verbs[end].add == add; end++) {
			size_t k = mapping_elements(&verbs[end].m, elems + run);

			if (total + run + k > TXN_MAX_ELEMENTS && end > first)
				break;
			run += k;
		}
		if (end == next)
			break;
		put_grouped(n, add ? ELEM_ADD : ELEM_DELETE, elems, run, sorted);
		total += run;
		next = end;
		if (end < count && verbs[end].add == add)
			break;  /* full */
	}
	return next;
}

void nft_mappings_apply(struct nft *n, const struct nft_verb *verbs, size_t count, int *rc)
{
	for (size_t first = 0; first < count;) {
		size_t next;
		int txn;

		nft_txn_start(n, n->batch);
		next = put_transaction(n, verbs, first, count);
		txn = nft_txn_commit(n, n->batch);
		/* The kernel rolled all of it back: each on its own, so that
		 * only what it refuses fails (a delete of what it expired
		 * meanwhile does not). */
		for (size_t i = first; i < next; i++)
			rc[i] = txn == 0 ? 0 : verbs[i].add ? nft_mapping_add(n, &verbs[i].m) :
							      nft_mapping_delete(n, &verbs[i].m);
		first = next;
	}
}

/* --- counters --- */

static int add_counter(struct nftnl_expr *e, void *data)
{
	struct nft_counters *sum = data;

	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0) {
		sum->packets += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		sum->bytes += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

static int add_element_counters(struct nftnl_set_elem *el, void *data)
{
	return nftnl_set_elem_expr_foreach(el, add_counter, data);
}

static int add_limited(struct nftnl_expr *e, void *data)
{
	struct nft_counters *sum = data;

	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0)
		sum->limited += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
	return 0;
}

static int add_element_limited(struct nftnl_set_elem *el, void *data)
{
	return nftnl_set_elem_expr_foreach(el, add_limited, data);
}

/* A seen4/seen6 element: its timeout restarted at the last new
 * connection, so the time it has run is the time since. */
static int add_element_seen(struct nftnl_set_elem *el, void *data)
{
	struct nft_counters *c = data;
	uint64_t timeout, left;

	if (!nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_EXPIRATION))
		return 0;
	/* An element with the set's own timeout does not repeat it. */
	timeout = nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_TIMEOUT) ?
			  nftnl_set_elem_get_u64(el, NFTNL_SET_ELEM_TIMEOUT) : SEEN_TIMEOUT_MS;
	left = nftnl_set_elem_get_u64(el, NFTNL_SET_ELEM_EXPIRATION);
	c->used = true;
	c->idle_ms = timeout > left ? timeout - left : 0;
	return 0;
}

struct element_answer {
	int (*each)(struct nftnl_set_elem *el, void *data);
	struct nft_counters *sum;
	bool parsed;
};

static int element_answer(const struct nlmsghdr *answer, void *arg)
{
	struct element_answer *a = arg;
	struct nftnl_set *s;

	if (NFNL_MSG_TYPE(answer->nlmsg_type) != NFT_MSG_NEWSETELEM)
		return 0;
	if (!(s = nftnl_set_alloc()))
		return -1;
	if (nftnl_set_elems_nlmsg_parse(answer, s) == 0) {
		if (a->each)
			nftnl_set_elem_foreach(s, a->each, a->sum);
		a->parsed = true;
	}
	nftnl_set_free(s);
	return 0;
}

/* Asks for one element and hands it to each(el, sum) (if each is set): 1 if
 * the kernel holds it, 0 if not (an element it expired answers ENOENT), or
 * a negative errno. */
static int read_element(struct nft *n, const struct element *e,
			int (*each)(struct nftnl_set_elem *el, void *data), struct nft_counters *sum)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();
	struct element_answer answer = { .each = each, .sum = sum, .parsed = false };
	struct nlmsghdr *nlh;
	int rc;

	if (!s || !el) {
		nftnl_set_free(s);
		nftnl_set_elem_free(el);
		return -ENOMEM;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, n->name[e->set]);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e->key.bytes, e->key.len);
	if (e->key_end.len)
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY_END, e->key_end.bytes, e->key_end.len);
	nftnl_set_elem_add(s, el);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_ACK, n->seq++);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	rc = nft_ask(n, nlh, buf, sizeof(buf), element_answer, &answer);
	if (rc == -ENOENT)
		return 0;
	return rc < 0 ? rc : answer.parsed ? 1 : -EPROTO;
}

int nft_mapping_counters(struct nft *n, const struct nft_mapping *m, struct nft_counters *out)
{
	size_t count = mapping_elements(m, n->elements);

	*out = (struct nft_counters){ 0 };
	for (size_t i = 0; i < count; i++) {
		int rc;

		/* The NAT chains see a connection's first packet only: fwd4's
		 * and peer4's counters count connections. allow4's, in the
		 * forward chain, count every packet let in. */
		enum obj set = n->elements[i].set;

		if (set == OBJ_FWD4 || set == OBJ_FWD4_FILTERED || set == OBJ_PEER4 ||
		    set == OBJ_LIMIT4 || set == OBJ_LIMIT6)
			continue;
		rc = read_element(n, &n->elements[i],
				  set == OBJ_LIMITED4 || set == OBJ_LIMITED6 ? add_element_limited :
									       add_element_counters,
				  out);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int nft_mapping_last_used(struct nft *n, const struct nft_mapping *m, struct nft_counters *out)
{
	struct element seen = { .set = is_forward(m) ? OBJ_SEEN4 : OBJ_SEEN6 };
	int rc;

	out->used = false;
	key_put_internal(&seen.key, m);
	rc = read_element(n, &seen, add_element_seen, out);
	return rc < 0 ? rc : 0;
}
