/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "nft/nft_impl.h"

static void build_chain_dump(struct nlmsghdr *nlh, const struct nft *n)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, n->table);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
}

static void build_set_dump(struct nlmsghdr *nlh, const struct nft *n)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
}

static void build_rule_dump(struct nlmsghdr *nlh, const struct nft *n)
{
	struct nftnl_rule *r = nft_new_rule_in(n, n->forward_chain);

	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
}

static void mark_ours(const struct nft *n, const char *name, enum obj first, enum obj end,
		      struct found *f)
{
	for (enum obj o = first; o < end; o++)
		if (strcmp(name, n->name[o]) == 0)
			f->obj[o] = true;
}

static int found_chain(const struct nlmsghdr *nlh, const struct nft *n, struct found *f)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	const char *table, *name;

	if (!c)
		return -1;
	if (nftnl_chain_nlmsg_parse(nlh, c) == 0 &&
	    (table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE)) && strcmp(table, n->table) == 0 &&
	    (name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME))) {
		mark_ours(n, name, OBJ_SET_COUNT, OBJ_COUNT, f);
		if (strcmp(name, n->forward_chain) == 0) {
			bool forward_hook = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM) &&
					    nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) ==
						    NF_INET_FORWARD;
			f->forward_chain |= forward_hook;
			f->forward_chain_other |= !forward_hook;
		}
	}
	nftnl_chain_free(c);
	return 0;
}

static int found_set(const struct nlmsghdr *nlh, const struct nft *n, struct found *f)
{
	struct nftnl_set *s = nftnl_set_alloc();
	const char *table, *name;

	if (!s)
		return -1;
	if (nftnl_set_nlmsg_parse(nlh, s) == 0 &&
	    (table = nftnl_set_get_str(s, NFTNL_SET_TABLE)) && strcmp(table, n->table) == 0 &&
	    (name = nftnl_set_get_str(s, NFTNL_SET_NAME)))
		mark_ours(n, name, 0, OBJ_SET_COUNT, f);
	nftnl_set_free(s);
	return 0;
}

/* A jump (or goto) to our forward chain. */
struct jump_target {
	const char *chain;
	bool found;
};

static int is_jump_to_ours(struct nftnl_expr *e, void *data)
{
	struct jump_target *target = data;
	const char *chain;
	uint32_t verdict;

	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "immediate") != 0 ||
	    !nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT) ||
	    !nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN))
		return 0;
	verdict = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
	chain = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
	target->found |= (verdict == (uint32_t)NFT_JUMP || verdict == (uint32_t)NFT_GOTO) &&
			 strcmp(chain, target->chain) == 0;
	return 0;
}

static int found_rule(const struct nlmsghdr *nlh, const struct nft *n, struct found *f)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct jump_target ours = { .chain = n->name[OBJ_FORWARD], .found = false };
	const char *table, *chain;

	if (!r)
		return -1;
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0 &&
	    (table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE)) && strcmp(table, n->table) == 0 &&
	    (chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN)) &&
	    strcmp(chain, n->forward_chain) == 0 && f->njumps < JUMPS_MAX &&
	    nftnl_expr_foreach(r, is_jump_to_ours, &ours) == 0 && ours.found)
		f->jump_handles[f->njumps++] = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	nftnl_rule_free(r);
	return 0;
}

void nft_build_table_rule_dump(struct nlmsghdr *nlh, const struct nft *n)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, n->table);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
}

int nft_count_rule(const struct nlmsghdr *nlh, const struct nft *n, struct found *f)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	const char *table, *chain;

	if (!r)
		return -1;
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0 &&
	    (table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE)) && strcmp(table, n->table) == 0 &&
	    (chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN)))
		for (enum obj o = OBJ_SET_COUNT; o < OBJ_COUNT; o++)
			if (strcmp(chain, n->name[o]) == 0)
				f->rules[o]++;
	nftnl_rule_free(r);
	return 0;
}

int nft_find_ours(struct nft *n, struct found *f)
{
	int rc;

	*f = (struct found){ .njumps = 0 };
	if ((rc = nft_dump(n, NFT_MSG_GETCHAIN, build_chain_dump, found_chain, f)) < 0 ||
	    (rc = nft_dump(n, NFT_MSG_GETSET, build_set_dump, found_set, f)) < 0)
		return rc;
	if (!f->forward_chain)
		return 0;
	return nft_dump(n, NFT_MSG_GETRULE, build_rule_dump, found_rule, f);
}

/* Deletes what find_ours found: jumps first, then the rules that use our
 * sets, then the sets (the limit maps' elements jump to our chains), then
 * the chains. */
void nft_put_delete_ours(struct nft *n, struct batch *bt, const struct found *f)
{
	for (size_t i = 0; i < f->njumps; i++) {
		struct nftnl_rule *r = nft_new_rule_in(n, n->forward_chain);

		nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, f->jump_handles[i]);
		nftnl_rule_nlmsg_build_payload(nft_txn_msg(n, bt, NFT_MSG_DELRULE, 0), r);
		nftnl_rule_free(r);
		nft_txn_next(bt);
	}
	for (enum obj o = OBJ_SET_COUNT; o < OBJ_COUNT; o++) {
		struct nftnl_rule *r;

		if (!f->obj[o])
			continue;
		r = nft_new_rule(n, o);  /* no handle: every rule of the chain */
		nftnl_rule_nlmsg_build_payload(nft_txn_msg(n, bt, NFT_MSG_DELRULE, 0), r);
		nftnl_rule_free(r);
		nft_txn_next(bt);
	}
	for (enum obj o = 0; o < OBJ_SET_COUNT; o++) {
		struct nftnl_set *s;

		if (!f->obj[o])
			continue;
		s = nftnl_set_alloc();
		nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, n->name[o]);
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
		nftnl_set_nlmsg_build_payload(nft_txn_msg(n, bt, NFT_MSG_DELSET, 0), s);
		nftnl_set_free(s);
		nft_txn_next(bt);
	}
	for (enum obj o = OBJ_SET_COUNT; o < OBJ_COUNT; o++) {
		struct nftnl_chain *c;

		if (!f->obj[o])
			continue;
		c = nft_new_regular_chain(n, o);
		nftnl_chain_nlmsg_build_payload(nft_txn_msg(n, bt, NFT_MSG_DELCHAIN, 0), c);
		nftnl_chain_free(c);
		nft_txn_next(bt);
	}
}

/* jump portleased_forward comment "portleased", first in the firewall's
 * forward chain: before its drops, and before anything that accepts on
 * its own terms. */
static void put_jump(struct nft *n, struct batch *bt)
{
	struct nftnl_rule *r = nft_new_rule_in(n, n->forward_chain);
	struct nftnl_expr *jump = nftnl_expr_alloc("immediate");
	struct nftnl_udata_buf *comment = nftnl_udata_buf_alloc(64);

	nftnl_expr_set_u32(jump, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(jump, NFTNL_EXPR_IMM_VERDICT, (uint32_t)NFT_JUMP);
	nftnl_expr_set_str(jump, NFTNL_EXPR_IMM_CHAIN, n->name[OBJ_FORWARD]);
	nft_add_expr(r, jump);
	if (comment && nftnl_udata_put_strz(comment, NFTNL_UDATA_RULE_COMMENT, "portleased"))
		nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(comment),
				    nftnl_udata_buf_len(comment));
	nftnl_udata_buf_free(comment);
	/* No NLM_F_APPEND and no position: the head of the chain. */
	nftnl_rule_nlmsg_build_payload(nft_txn_msg(n, bt, NFT_MSG_NEWRULE, NLM_F_CREATE), r);
	nftnl_rule_free(r);
	nft_txn_next(bt);
}

int nft_create_in_firewall_table(struct nft *n)
{
	struct found f;
	int rc = nft_find_ours(n, &f);

	if (rc < 0)
		return rc;
	if (!f.forward_chain)
		return f.forward_chain_other ? -ENOTDIR : -ENOENT;
	nft_txn_start(n, n->batch);
	nft_put_delete_ours(n, n->batch, &f);
	nft_put_our_objects(n, n->batch);
	put_jump(n, n->batch);
	return nft_txn_commit(n, n->batch);
}

int nft_create_own_table(struct nft *n)
{
	struct batch *bt = n->batch;

	nft_txn_start(n, bt);
	/* Add-then-delete makes the delete succeed whether or not a stale
	 * table of ours exists; the batch is atomic, so no packet ever sees
	 * a half-built table. */
	nft_put_table(n, bt, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	nft_put_table(n, bt, NFT_MSG_DELTABLE, 0);
	nft_put_table(n, bt, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);
	nft_put_our_objects(n, bt);
	return nft_txn_commit(n, bt);
}
