/* libnftables, loaded on the first call (see util/lazylib.h): only bridge
 * networks and published ports write rules; `--network none|host` and every
 * command but run, create, start and the network ones never do. */
#include <nftables/libnftables.h>

#include "util/lazylib.h"

static struct lazylib nftables = LAZYLIB_INIT("libnftables.so.1");

LAZYLIB_FORWARD(nftables, struct nft_ctx *, nft_ctx_new, (uint32_t flags), (flags))
LAZYLIB_FORWARD_VOID(nftables, nft_ctx_free, (struct nft_ctx * ctx), (ctx))
LAZYLIB_FORWARD_VOID(nftables, nft_ctx_output_set_flags, (struct nft_ctx * ctx, unsigned int flags),
                     (ctx, flags))
LAZYLIB_FORWARD(nftables, int, nft_ctx_buffer_output, (struct nft_ctx * ctx), (ctx))
LAZYLIB_FORWARD(nftables, const char *, nft_ctx_get_output_buffer, (struct nft_ctx * ctx), (ctx))
LAZYLIB_FORWARD(nftables, int, nft_ctx_buffer_error, (struct nft_ctx * ctx), (ctx))
LAZYLIB_FORWARD(nftables, const char *, nft_ctx_get_error_buffer, (struct nft_ctx * ctx), (ctx))
LAZYLIB_FORWARD(nftables, int, nft_run_cmd_from_buffer, (struct nft_ctx * nft, const char *buf), (nft, buf))
