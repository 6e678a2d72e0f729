/* SPDX-License-Identifier: GPL-2.0-or-later */
/* netinet/in.h (by unit.h) before the kernel's headers, which then
 * leave its definitions alone. */
#include "unit.h"

#include <check.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/nft_watch.h"

#define OURS 4242

/* Appends one notification to buf at *len: about an object of table named
 * name in attribute name_attr (none if 0). */
static void notice_named(char *buf, size_t *len, uint16_t msg, uint32_t pid, uint8_t family,
			 const char *table, uint16_t name_attr, const char *name)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf + *len);
	struct nfgenmsg *g;

	h->nlmsg_type = (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | msg);
	h->nlmsg_pid = pid;
	g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->nfgen_family = family;
	if (table)
		mnl_attr_put_strz(h, 1, table);
	if (name_attr)
		mnl_attr_put_strz(h, name_attr, name);
	*len += h->nlmsg_len;
}

static void notice(char *buf, size_t *len, uint16_t msg, uint32_t pid, uint8_t family,
		   const char *table)
{
	notice_named(buf, len, msg, pid, family, table, 0, NULL);
}

START_TEST(test_deletions_of_our_table)
{
	static const uint16_t kinds[] = { NFT_MSG_DELTABLE, NFT_MSG_DELCHAIN, NFT_MSG_DELSET,
					  NFT_MSG_DELRULE };
	char buf[4096];
	size_t len;

	for (size_t i = 0; i < 4; i++) {
		len = 0;
		notice(buf, &len, kinds[i], 1, NFPROTO_INET, "portleased");
		ck_assert(nft_watch_concerns(buf, len, "portleased", "", OURS));
	}
	/* A flush: many notices, ours among the others'. */
	len = 0;
	notice(buf, &len, NFT_MSG_DELRULE, 1, NFPROTO_INET, "fw4");
	notice(buf, &len, NFT_MSG_DELTABLE, 1, NFPROTO_INET, "fw4");
	notice(buf, &len, NFT_MSG_DELTABLE, 1, NFPROTO_INET, "portleased");
	ck_assert(nft_watch_concerns(buf, len, "portleased", "", OURS));
}
END_TEST

/* In the firewall's table fw4 (chain "forward" jumps to ours): only our
 * objects, the jump's chain, and the table itself count. */
START_TEST(test_integrated)
{
	char buf[4096];
	size_t len = 0;

	notice_named(buf, &len, NFT_MSG_DELRULE, 1, NFPROTO_INET, "fw4", NFTA_RULE_CHAIN,
		     "forward_lan");
	notice_named(buf, &len, NFT_MSG_DELSET, 1, NFPROTO_INET, "fw4", NFTA_SET_NAME, "lan_hosts");
	notice_named(buf, &len, NFT_MSG_DELCHAIN, 1, NFPROTO_INET, "fw4", NFTA_CHAIN_NAME, "srcnat");
	notice_named(buf, &len, NFT_MSG_DELCHAIN, 1, NFPROTO_INET, "fw4", 0, NULL);
	notice_named(buf, &len, NFT_MSG_DELSET, 1, NFPROTO_INET, "other", NFTA_SET_NAME,
		     "portleased_fwd4");
	notice_named(buf, &len, NFT_MSG_DELRULE, OURS, NFPROTO_INET, "fw4", NFTA_RULE_CHAIN,
		     "forward");
	ck_assert(!nft_watch_concerns(buf, len, "fw4", "forward", OURS));

	len = 0;
	notice_named(buf, &len, NFT_MSG_DELRULE, 1, NFPROTO_INET, "fw4", NFTA_RULE_CHAIN, "forward");
	ck_assert(nft_watch_concerns(buf, len, "fw4", "forward", OURS));
	len = 0;
	notice_named(buf, &len, NFT_MSG_DELRULE, 1, NFPROTO_INET, "fw4", NFTA_RULE_CHAIN,
		     "portleased_prerouting");
	ck_assert(nft_watch_concerns(buf, len, "fw4", "forward", OURS));
	len = 0;
	notice_named(buf, &len, NFT_MSG_DELSET, 1, NFPROTO_INET, "fw4", NFTA_SET_NAME,
		     "portleased_allow4");
	ck_assert(nft_watch_concerns(buf, len, "fw4", "forward", OURS));
	len = 0;
	notice_named(buf, &len, NFT_MSG_DELCHAIN, 1, NFPROTO_INET, "fw4", NFTA_CHAIN_NAME,
		     "portleased_forward");
	ck_assert(nft_watch_concerns(buf, len, "fw4", "forward", OURS));
	/* A firewalld reload: the table goes and comes back. */
	len = 0;
	notice(buf, &len, NFT_MSG_NEWTABLE, 1, NFPROTO_INET, "fw4");
	ck_assert(nft_watch_concerns(buf, len, "fw4", "forward", OURS));
}
END_TEST

START_TEST(test_what_is_not_damage)
{
	char buf[4096];
	size_t len = 0;

	notice(buf, &len, NFT_MSG_DELTABLE, OURS, NFPROTO_INET, "portleased");  /* our own */
	notice(buf, &len, NFT_MSG_DELTABLE, 1, NFPROTO_INET, "portleased2");
	notice(buf, &len, NFT_MSG_DELTABLE, 1, NFPROTO_IPV4, "portleased");      /* ip, not inet */
	notice(buf, &len, NFT_MSG_DELSETELEM, 1, NFPROTO_INET, "portleased");   /* an operator's */
	notice(buf, &len, NFT_MSG_DELCHAIN, 1, NFPROTO_INET, NULL);             /* no table named */
	ck_assert(!nft_watch_concerns(buf, len, "portleased", "", OURS));
}
END_TEST

/* Cut short anywhere, or a name without its NUL: never read past the
 * bytes, never a false alarm from half a message. */
START_TEST(test_truncated)
{
	char buf[4096], *copy;
	size_t len = 0;

	notice(buf, &len, NFT_MSG_DELTABLE, 1, NFPROTO_INET, "portleased");
	for (size_t cut = 0; cut < len; cut++) {
		copy = malloc(cut ? cut : 1);
		memcpy(copy, buf, cut);
		ck_assert(!nft_watch_concerns(copy, cut, "portleased", "", OURS));
		free(copy);
	}
	/* A length of 2^31 or more (libmnl reads it as negative, and fits). */
	((struct nlmsghdr *)buf)->nlmsg_len = 0x80000020u;
	ck_assert(!nft_watch_concerns(buf, len, "portleased", "", OURS));
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)len;
	/* The name's NUL overwritten: the attribute is refused. */
	buf[len - 2] = 'x';
	buf[len - 1] = 'x';
	ck_assert(!nft_watch_concerns(buf, len, "portleased", "", OURS));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nft_watch");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_deletions_of_our_table);
	tcase_add_test(tc, test_integrated);
	tcase_add_test(tc, test_what_is_not_damage);
	tcase_add_test(tc, test_truncated);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
