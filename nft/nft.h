/* The nftables backend: the only code that speaks netlink to nf_tables.
 * A narrow, data-only interface, so that it could move into a small
 * privileged helper process later. Every verb is one netlink batch whose
 * acknowledgements are all read before it returns. */
#ifndef PORTLEASED_NFT_H
#define PORTLEASED_NFT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct nft;

/* One IPv4 port forward: external (proto, port) to internal addr:port. */
struct nft_forward {
	uint8_t proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t external_port;
	struct in_addr internal_addr;
	uint16_t internal_port;
	uint64_t timeout_ms;  /* the kernel drops the element by itself after this */
};

/*
 * Opens netlink and (re)creates table inet <table>: the fwd4 map, the allow4
 * and pinhole6 sets, and the prerouting and forward chains, DNAT only for
 * packets arriving on external_ifname. A table of that name left behind by an
 * earlier run is replaced in the same atomic batch. Returns NULL and a
 * message in err on failure.
 */
struct nft *nft_open(const char *table, const char *external_ifname, char *err, size_t errlen);

/* Deletes our table (if remove_table) and closes netlink. */
void nft_close(struct nft *n, int remove_table);

/* All return 0 or a negative errno. */
int nft_forward_add(struct nft *n, const struct nft_forward *f);
/* Restarts the element timeouts at f->timeout_ms. */
int nft_forward_refresh(struct nft *n, const struct nft_forward *f);
/* A forward the kernel already expired counts as deleted. */
int nft_forward_delete(struct nft *n, const struct nft_forward *f);

#endif
