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

#include "nft_watch.h"

#define OURS 4242

/* Appends one notification to buf at *len. */
static void notice(char *buf, size_t *len, uint16_t msg, uint32_t pid, uint8_t family,
		   const char *table)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf + *len);
	struct nfgenmsg *g;

	h->nlmsg_type = (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | msg);
	h->nlmsg_pid = pid;
	g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->nfgen_family = family;
	if (table)
		mnl_attr_put_strz(h, 1, table);
	*len += h->nlmsg_len;
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
		ck_assert(nft_watch_concerns(buf, len, "portleased", OURS));
	}
	/* A flush: many notices, ours among the others'. */
	len = 0;
	notice(buf, &len, NFT_MSG_DELRULE, 1, NFPROTO_INET, "fw4");
	notice(buf, &len, NFT_MSG_DELTABLE, 1, NFPROTO_INET, "fw4");
	notice(buf, &len, NFT_MSG_DELTABLE, 1, NFPROTO_INET, "portleased");
	ck_assert(nft_watch_concerns(buf, len, "portleased", OURS));
}
END_TEST

START_TEST(test_what_is_not_damage)
{
	char buf[4096];
	size_t len = 0;

	notice(buf, &len, NFT_MSG_DELTABLE, OURS, NFPROTO_INET, "portleased");  /* our own */
	notice(buf, &len, NFT_MSG_DELTABLE, 1, NFPROTO_INET, "portleased2");
	notice(buf, &len, NFT_MSG_DELTABLE, 1, NFPROTO_IPV4, "portleased");      /* ip, not inet */
	notice(buf, &len, NFT_MSG_NEWTABLE, 1, NFPROTO_INET, "portleased");
	notice(buf, &len, NFT_MSG_DELSETELEM, 1, NFPROTO_INET, "portleased");   /* an operator's */
	notice(buf, &len, NFT_MSG_DELCHAIN, 1, NFPROTO_INET, NULL);             /* no table named */
	ck_assert(!nft_watch_concerns(buf, len, "portleased", OURS));
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
		ck_assert(!nft_watch_concerns(copy, cut, "portleased", OURS));
		free(copy);
	}
	/* A length of 2^31 or more (libmnl reads it as negative, and fits). */
	((struct nlmsghdr *)buf)->nlmsg_len = 0x80000020u;
	ck_assert(!nft_watch_concerns(buf, len, "portleased", OURS));
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)len;
	/* The name's NUL overwritten: the attribute is refused. */
	buf[len - 2] = 'x';
	buf[len - 1] = 'x';
	ck_assert(!nft_watch_concerns(buf, len, "portleased", OURS));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nft_watch");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_deletions_of_our_table);
	tcase_add_test(tc, test_what_is_not_damage);
	tcase_add_test(tc, test_truncated);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
