/* Registry credentials, kept in Docker's config.json format so that `docker login`,
 * `podman login` (with --authfile) and vessel share one file:
 *
 *     {"auths": {"https://index.docker.io/v1/": {"auth": "<base64 user:secret>"},
 *                "127.0.0.1:5000": {"auth": "..."}}}
 *
 * `vessel login` calls auth_store() once the registry accepted the credentials,
 * the registry client calls auth_lookup() for the registry it talks to.
 * Credential helpers ("credsStore", "credHelpers") are not consulted. */
#pragma once

struct vsl_error;

/* $VESSEL_AUTH_FILE, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
 * NULL when out of memory. */
char *auth_default_file(void);

/* The key under "auths" that docker.io's credentials are written to. */
#define AUTH_DOCKER_HUB_KEY "https://index.docker.io/v1/"

/* file NULL: auth_default_file(). Returns 0 and *ret_user = *ret_secret = NULL
 * when there is nothing for that registry (or no file at all). Reads
 * "auths"."<key>"."auth" (base64 "user:secret") or "username"/"password"; an
 * "identitytoken" is returned as the secret with the user "<token>" (Docker's
 * convention: it is an OAuth2 refresh token, not a password). Keys may carry a
 * scheme or a path ("https://host/v1/"); docker.io is also found as
 * "docker.io", "index.docker.io" and "registry-1.docker.io". */
int auth_lookup(const char *file, const char *domain, char **ret_user, char **ret_secret,
                struct vsl_error **err);

/* Writes atomically with mode 0600, keeping every other key of the file as it
 * was; other spellings of the same registry's key are replaced by the one written. */
int auth_store(const char *file, const char *domain, const char *user, const char *secret,
               struct vsl_error **err);

/* base64 of "user:secret": the "auth" of the file, and HTTP Basic credentials.
 * NULL when out of memory. */
char *auth_encode(const char *user, const char *secret);

/* -ENOENT (with an error naming the registry) when not logged in there. */
int auth_remove(const char *file, const char *domain, struct vsl_error **err);
