/* `vessel pull`: reference -> manifest (through an index when the registry
 * offers several platforms) -> config -> layers -> an image record.
 *
 * Each missing layer is fetched by a worker thread (3 at a time by default);
 * the bytes go both into the content store and, through a pipe, into an
 * unpacker thread that applies the tar as it streams in, so a layer is on disk
 * about when its last byte arrives. Nothing is recorded before every digest
 * and diff id has been checked: an interrupted pull leaves only temporary files
 * that the stores remove. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image/blob-store.h"
#include "image/image-db.h"
#include "image/images-internal.h"
#include "image/layer.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/registry.h"
#include "storage/layer-store.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

struct pull;

struct layer_job {
	struct pull *pull;
	const struct descriptor *desc;
	const char *diff_id;
	char chain_id[DIGEST_SIZE];
	char parent[DIGEST_SIZE]; /* "" for the first layer */
	char short_id[13];
	bool present; /* unpacked already, by an earlier pull */
	uint64_t unpacked_size;
	int result;
	struct vsl_error *err;
};

struct pull {
	struct images *im;
	struct registry *reg;
	const char *repo;
	struct layer_job *jobs;
	size_t n_jobs, next_job;
	pthread_mutex_t lock; /* next_job, and the event callback */
	const struct pull_opts *opts;
};

static void emit(struct pull *p, enum image_event_kind kind, const char *id, const char *status,
                 uint64_t current, uint64_t total)
{
	if (p->opts == NULL || p->opts->on_event == NULL)
		return;
	struct image_event ev = {
	    .kind = kind, .id = id, .status = status, .current = current, .total = total};
	pthread_mutex_lock(&p->lock);
	p->opts->on_event(p->opts->userdata, &ev);
	pthread_mutex_unlock(&p->lock);
}

/* ---- one layer: fetch -> (content store, pipe -> unpacker) ---- */

struct unpacker {
	int in_fd;
	int diff_dirfd;
	struct layer_apply_result result;
	struct vsl_error *err;
	int r;
};

static void *unpacker_main(void *arg)
{
	struct unpacker *u = arg;
	u->r = layer_apply(u->in_fd, u->diff_dirfd, &u->result, &u->err);
	/* Drain: if the tar ended early, the fetcher must not block on a full pipe. */
	if (u->r < 0) {
		char buf[4096];
		while (read(u->in_fd, buf, sizeof(buf)) > 0)
			;
	}
	return NULL;
}

struct fetch_sink {
	struct layer_job *job;
	struct blob_writer *blob;
	int pipe_fd;
};

static int sink_write(void *userdata, const void *buf, size_t len, struct vsl_error **err)
{
	struct fetch_sink *s = userdata;
	int r = blob_writer_write(s->blob, buf, len, err);
	if (r < 0)
		return r;
	if (write_all(s->pipe_fd, buf, len) < 0)
		return vsl_error_errno(err, errno, "pass layer to the unpacker");
	return 0;
}

static void sink_progress(void *userdata, uint64_t done, uint64_t total)
{
	struct fetch_sink *s = userdata;
	emit(s->job->pull, IMAGE_EVENT_LAYER, s->job->short_id, "Downloading", done, total);
}

/* Applies the layer from `in_fd` (a pipe from the fetcher or a stored blob). */
static int unpack_start(struct unpacker *u, pthread_t *thread, struct vsl_error **err)
{
	int r = pthread_create(thread, NULL, unpacker_main, u);
	if (r != 0)
		return vsl_error_errno(err, r, "start the layer unpacker");
	return 0;
}

static int layer_check(struct layer_job *job, const struct layer_apply_result *res, struct vsl_error **err)
{
	if (strcmp(res->diff_id, job->diff_id) != 0)
		return vsl_error_set(err, "layer %s: content is %s but the image config says %s",
		                     job->short_id, res->diff_id, job->diff_id);
	return 0;
}

static int layer_fetch(struct layer_job *job, struct vsl_error **err)
{
	struct pull *p = job->pull;
	struct images *im = p->im;
	_cleanup_layer_ingest_ struct layer_ingest *ingest = NULL;
	_cleanup_close_ int diff_dirfd = -EBADF;
	int r = layer_store_begin(im->layers, job->chain_id, &ingest, &diff_dirfd, err);
	if (r < 0)
		return r;

	struct unpacker u = {.in_fd = -EBADF, .diff_dirfd = diff_dirfd};
	pthread_t thread;

	if (blob_store_has(im->blobs, job->desc->digest)) {
		/* The blob came with `load` or an earlier pull: unpack it, fetch nothing. */
		_cleanup_close_ int fd = -EBADF;
		uint64_t size;
		if ((r = blob_store_open_blob(im->blobs, job->desc->digest, &fd, &size, err)) < 0)
			return r;
		emit(p, IMAGE_EVENT_LAYER, job->short_id, "Extracting", 0, size);
		u.in_fd = fd;
		unpacker_main(&u);
	} else {
		_cleanup_blob_writer_ struct blob_writer *blob = NULL;
		if ((r = blob_writer_new(im->blobs, job->desc->digest, job->desc->size, &blob, err)) < 0)
			return r;
		int pipefd[2];
		if (pipe2(pipefd, O_CLOEXEC) < 0)
			return vsl_error_errno(err, errno, "pipe");
		_cleanup_close_ int read_end = pipefd[0];
		_cleanup_close_ int write_end = pipefd[1];
		u.in_fd = read_end;
		if ((r = unpack_start(&u, &thread, err)) < 0)
			return r;
		struct fetch_sink sink = {.job = job, .blob = blob, .pipe_fd = write_end};
		_cleanup_error_ struct vsl_error *fetch_err = NULL;
		int fr = registry_fetch_blob(p->reg, p->repo, job->desc->digest, job->desc->size, sink_write,
		                             sink_progress, &sink, &fetch_err);
		/* EOF for the unpacker, which then finishes or fails on a short tar. */
		close(TAKE_FD(write_end));
		pthread_join(thread, NULL);
		if (fr < 0) {
			/* A write into the pipe fails once the unpacker gave up: its error is the cause. */
			if (u.r < 0) {
				*err = TAKE_PTR(u.err);
				return u.r;
			}
			*err = TAKE_PTR(fetch_err);
			return fr;
		}
		emit(p, IMAGE_EVENT_LAYER, job->short_id, "Verifying Checksum", 0, 0);
		if (u.r >= 0 && (r = blob_writer_commit(blob, NULL, err)) < 0) {
			vsl_error_free(u.err);
			return r;
		}
	}
	if (u.r < 0) {
		*err = TAKE_PTR(u.err);
		return u.r;
	}
	if ((r = layer_check(job, &u.result, err)) < 0)
		return r;
	if ((r = layer_ingest_commit(ingest, err)) < 0)
		return r;
	job->unpacked_size = u.result.unpacked_size;
	emit(p, IMAGE_EVENT_LAYER, job->short_id, "Pull complete", 0, 0);
	return 0;
}

static void *worker_main(void *arg)
{
	struct pull *p = arg;
	/* A write to the pipe of an unpacker that gave up must fail with EPIPE,
	 * not kill vessel; the signal stays blocked in this thread only. */
	sigset_t pipe_set;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
	for (;;) {
		pthread_mutex_lock(&p->lock);
		struct layer_job *job = NULL;
		while (p->next_job < p->n_jobs && job == NULL) {
			struct layer_job *j = &p->jobs[p->next_job++];
			if (!j->present)
				job = j;
		}
		pthread_mutex_unlock(&p->lock);
		if (job == NULL)
			return NULL;
		job->result = layer_fetch(job, &job->err);
		if (job->result < 0)
			vsl_error_prefix(&job->err, "layer %s", job->desc->digest);
	}
}

static int fetch_layers(struct pull *p, struct vsl_error **err)
{
	unsigned n = p->im->cfg.max_concurrent_downloads ? p->im->cfg.max_concurrent_downloads : 3;
	size_t missing = 0;
	for (size_t i = 0; i < p->n_jobs; i++)
		missing += !p->jobs[i].present;
	if (n > missing)
		n = (unsigned)missing;
	pthread_t threads[16];
	if (n > ARRAY_SIZE(threads))
		n = ARRAY_SIZE(threads);
	unsigned started = 0;
	int r = 0;
	for (; started < n; started++) {
		int e = pthread_create(&threads[started], NULL, worker_main, p);
		if (e != 0) {
			r = vsl_error_errno(err, e, "start a download thread");
			break;
		}
	}
	if (started == 0 && missing > 0)
		return r < 0 ? r : vsl_error_set(err, "no download thread");
	for (unsigned i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->n_jobs; i++)
		if (p->jobs[i].result < 0) {
			*err = TAKE_PTR(p->jobs[i].err);
			return p->jobs[i].result;
		}
	return 0;
}

/* ---- manifests and config ---- */

struct membuf {
	char *data;
	size_t len, cap, max;
};

static int membuf_sink(void *userdata, const void *buf, size_t len, struct vsl_error **err)
{
	struct membuf *m = userdata;
	if (m->len + len > m->max)
		return vsl_error_set(err, "image config larger than %zu bytes", m->max);
	if (m->len + len + 1 > m->cap) {
		size_t cap = (m->len + len + 1) * 2;
		char *grown = realloc(m->data, cap);
		if (grown == NULL)
			return vsl_error_errno(err, ENOMEM, "read image config");
		m->data = grown;
		m->cap = cap;
	}
	memcpy(m->data + m->len, buf, len);
	m->len += len;
	m->data[m->len] = '\0';
	return 0;
}

/* The config blob: from the store when present, else fetched and stored. */
static int get_config(struct pull *p, const struct descriptor *d, char **ret, size_t *ret_len,
                      struct vsl_error **err)
{
	if (d->size < 0 || (uint64_t)d->size > IMAGE_CONFIG_MAX_SIZE)
		return vsl_error_set(err, "image config of %lld bytes is over the limit of %u",
		                     (long long)d->size, IMAGE_CONFIG_MAX_SIZE);
	if (blob_store_has(p->im->blobs, d->digest))
		return blob_store_read(p->im->blobs, d->digest, IMAGE_CONFIG_MAX_SIZE, ret, ret_len, err);
	struct membuf m = {.max = IMAGE_CONFIG_MAX_SIZE};
	int r = registry_fetch_blob(p->reg, p->repo, d->digest, d->size, membuf_sink, NULL, &m, err);
	if (r >= 0)
		r = blob_store_put(p->im->blobs, m.data ? m.data : "", m.len, d->digest, NULL, err);
	if (r < 0) {
		free(m.data);
		return vsl_error_prefix(err, "image config %s", d->digest);
	}
	*ret = m.data ? m.data : strdup("");
	*ret_len = m.len;
	return 0;
}

/* Fetches the manifest for `reference`; through an index, the one for the
 * platform. Both are stored. ret_repo_digest: the digest the name points to
 * (the index's when there is one), as Docker reports in RepoDigests. */
static int get_manifest(struct pull *p, const struct image_ref *ref, const char *familiar,
                        struct manifest **ret, char ret_manifest_digest[DIGEST_SIZE],
                        char ret_repo_digest[DIGEST_SIZE], char **ret_media_type, struct vsl_error **err)
{
	struct registry_manifest top = {0};
	int r = registry_get_manifest(p->reg, p->repo, ref->digest ? ref->digest : ref->tag, &top, err);
	if (r < 0)
		return r;
	enum manifest_kind kind;
	if ((r = manifest_kind_of(top.media_type, top.body, top.len, &kind, err)) < 0)
		goto out;
	memcpy(ret_repo_digest, top.digest, DIGEST_SIZE);
	if ((r = blob_store_put(p->im->blobs, top.body, top.len, top.digest, NULL, err)) < 0)
		goto out;

	if (kind == MANIFEST_INDEX) {
		_cleanup_image_index_ struct image_index *idx = NULL;
		if ((r = image_index_parse(top.body, top.len, &idx, err)) < 0)
			goto out;
		struct platform want = {0};
		if (p->opts && p->opts->platform)
			r = platform_parse(p->opts->platform, &want, err);
		else
			r = platform_host(&want, err);
		if (r < 0)
			goto out;
		const struct descriptor *chosen = NULL;
		r = image_index_select(idx, &want, familiar, &chosen, err);
		platform_release(&want);
		if (r < 0)
			goto out;
		struct registry_manifest m = {0};
		if ((r = registry_get_manifest(p->reg, p->repo, chosen->digest, &m, err)) < 0)
			goto out;
		registry_manifest_release(&top);
		top = m;
		if ((r = manifest_kind_of(top.media_type, top.body, top.len, &kind, err)) < 0)
			goto out;
		if (kind != MANIFEST_IMAGE) {
			r = vsl_error_set(err, "manifest %s: an index inside an index is not supported",
			                  top.digest);
			goto out;
		}
		if ((r = blob_store_put(p->im->blobs, top.body, top.len, top.digest, NULL, err)) < 0)
			goto out;
	}
	if ((r = manifest_parse(top.body, top.len, ret, err)) < 0)
		goto out;
	memcpy(ret_manifest_digest, top.digest, DIGEST_SIZE);
	*ret_media_type = strdup(top.media_type       ? top.media_type
	                         : (*ret)->media_type ? (*ret)->media_type
	                                              : "");
out:
	registry_manifest_release(&top);
	return r;
}

static int64_t parse_created(const char *s)
{
	if (s == NULL)
		return 0;
	struct tm tm = {0};
	const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	return rest ? (int64_t)timegm(&tm) : 0;
}

/* Records the verified image: its layers, names and repo digest, in one transaction. */
static int record_image(struct pull *p, const struct manifest *m, const struct image_config *config,
                        const char *manifest_digest, const char *media_type, char *const names[],
                        char *const digests[], struct vsl_error **err)
{
	struct images *im = p->im;
	_cleanup_free_ struct layer_record *layers = calloc(m->n_layers ? m->n_layers : 1, sizeof(*layers));
	if (layers == NULL)
		return vsl_error_errno(err, ENOMEM, "pull");
	uint64_t total = 0;
	for (size_t i = 0; i < m->n_layers; i++) {
		struct layer_job *j = &p->jobs[i];
		uint64_t size = j->unpacked_size;
		if (j->present) {
			_cleanup_layer_record_ struct layer_record *old = NULL;
			if (image_db_get_layer(im->db, j->chain_id, &old, NULL) >= 0)
				size = old->size;
		}
		layers[i] = (struct layer_record){
		    .chain_id = j->chain_id,
		    .diff_id = (char *)j->diff_id,
		    .parent = i > 0 ? j->parent : NULL,
		    .blob_digest = j->desc->digest,
		    .blob_media_type = j->desc->media_type,
		    .blob_size = (uint64_t)j->desc->size,
		    .size = size,
		};
		total += size;
	}
	struct image_record rec = {
	    .id = m->config.digest,
	    .manifest_digest = (char *)manifest_digest,
	    .manifest_media_type = (char *)media_type,
	    .created = parse_created(config->created),
	    .added = time(NULL),
	    .size = total,
	    .architecture = config->architecture,
	    .os = config->os,
	    .variant = config->variant,
	    .names = (char **)names,
	    .digests = (char **)digests,
	};
	return image_db_put(im->db, &rec, layers, m->n_layers, err);
}

static int pull_image(struct pull *p, const struct image_ref *ref, const char *familiar, const char *full,
                      const char *name, char **ret_id, struct vsl_error **err)
{
	struct images *im = p->im;
	_cleanup_free_ char *status = NULL;
	if (asprintf(&status, "%s: Pulling from %s", ref->digest ? ref->digest : ref->tag, ref->path) < 0)
		return vsl_error_errno(err, ENOMEM, "pull");
	emit(p, IMAGE_EVENT_STATUS, NULL, status, 0, 0);

	_cleanup_manifest_ struct manifest *m = NULL;
	char manifest_digest[DIGEST_SIZE], repo_digest[DIGEST_SIZE];
	_cleanup_free_ char *media_type = NULL;
	int r = get_manifest(p, ref, familiar, &m, manifest_digest, repo_digest, &media_type, err);
	if (r < 0)
		return r;

	_cleanup_free_ char *config_json = NULL;
	size_t config_len = 0;
	if ((r = get_config(p, &m->config, &config_json, &config_len, err)) < 0)
		return r;
	_cleanup_image_config_ struct image_config *config = NULL;
	if ((r = image_config_parse(config_json, config_len, &config, err)) < 0)
		return r;
	size_t n_diff = 0;
	while (config->diff_ids && config->diff_ids[n_diff])
		n_diff++;
	if (n_diff != m->n_layers)
		return vsl_error_set(err, "the manifest has %zu layers but the image config %zu diff ids",
		                     m->n_layers, n_diff);

	p->jobs = calloc(m->n_layers ? m->n_layers : 1, sizeof(*p->jobs));
	if (p->jobs == NULL)
		return vsl_error_errno(err, ENOMEM, "pull");
	p->n_jobs = m->n_layers;
	for (size_t i = 0; i < m->n_layers; i++) {
		struct layer_job *j = &p->jobs[i];
		j->pull = p;
		j->desc = &m->layers[i];
		j->diff_id = config->diff_ids[i];
		if (i > 0)
			memcpy(j->parent, p->jobs[i - 1].chain_id, DIGEST_SIZE);
		image_chain_id(i > 0 ? j->parent : NULL, j->diff_id, j->chain_id);
		snprintf(j->short_id, sizeof(j->short_id), "%.12s", digest_hex(j->desc->digest));
		if (j->desc->urls != NULL && !blob_store_has(im->blobs, j->desc->digest))
			return vsl_error_set(
			    err, "layer %s: foreign layers (fetched from other URLs) are not supported",
			    j->desc->digest);
		j->present = layer_store_has(im->layers, j->chain_id);
		emit(p, IMAGE_EVENT_LAYER, j->short_id, j->present ? "Already exists" : "Pulling fs layer", 0,
		     0);
	}
	if ((r = fetch_layers(p, err)) < 0)
		return r;

	_cleanup_free_ char *repo_digest_name = NULL;
	if (asprintf(&repo_digest_name, "%s@%s", name, repo_digest) < 0)
		return vsl_error_errno(err, ENOMEM, "pull");
	char *const names[] = {ref->digest ? NULL : (char *)full, NULL};
	char *const digests[] = {repo_digest_name, NULL};
	_cleanup_free_ char *previous = NULL;
	bool had = image_db_resolve(im->db, ref->digest ? repo_digest_name : full, &previous, NULL) >= 0;
	if ((r = record_image(p, m, config, manifest_digest, media_type, names, digests, err)) < 0)
		return r;

	_cleanup_free_ char *digest_line = NULL, *done = NULL;
	if (asprintf(&digest_line, "Digest: %s", repo_digest) >= 0)
		emit(p, IMAGE_EVENT_STATUS, NULL, digest_line, 0, 0);
	bool same = had && strcmp(previous, m->config.digest) == 0;
	if (asprintf(&done, "Status: %s for %s", same ? "Image is up to date" : "Downloaded newer image",
	             familiar) >= 0)
		emit(p, IMAGE_EVENT_STATUS, NULL, done, 0, 0);
	if (ret_id && (*ret_id = strdup(m->config.digest)) == NULL)
		return vsl_error_errno(err, ENOMEM, "pull");
	return 0;
}

int images_pull(struct images *im, const char *ref_string, const struct pull_opts *opts, char **ret_id,
                struct vsl_error **err)
{
	_cleanup_image_ref_ struct image_ref *ref = NULL;
	int r = image_ref_parse(ref_string, &ref, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *familiar = image_ref_familiar(ref);
	_cleanup_free_ char *name = image_ref_name(ref);
	_cleanup_free_ char *full = image_ref_string(ref);
	if (familiar == NULL || name == NULL || full == NULL)
		return vsl_error_errno(err, ENOMEM, "pull");

	_cleanup_registry_ struct registry *reg = NULL;
	if ((r = registry_open(ref->domain, &im->cfg.registry, &reg, err)) < 0)
		return vsl_error_prefix(err, "pull %s", familiar);
	if ((r = images_lock(im, LOCK_SH, err)) < 0)
		return r;
	/* What an interrupted pull left (unpacked halves of layers) goes now:
	 * the store is as before by the next pull at the latest. */
	layer_store_gc(im->layers, NULL);
	struct pull p = {.im = im, .reg = reg, .repo = ref->path, .opts = opts};
	pthread_mutex_init(&p.lock, NULL);
	r = pull_image(&p, ref, familiar, full, name, ret_id, err);
	images_unlock(im);
	for (size_t i = 0; i < p.n_jobs; i++)
		vsl_error_free(p.jobs[i].err);
	free(p.jobs);
	pthread_mutex_destroy(&p.lock);
	if (r < 0)
		return vsl_error_prefix(err, "pull %s", familiar);
	return 0;
}
