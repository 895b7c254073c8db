#include "runtime/mount-opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "util/cleanup.h"
#include "util/error.h"

enum opt_kind { OPT_ATTR, OPT_PROPAGATION, OPT_SB, OPT_BOOL, OPT_IGNORE };

enum opt_bool { B_BIND, B_RBIND, B_REMOUNT, B_IDMAP, B_RIDMAP, B_TMPCOPYUP };

struct opt {
	const char *name;
	enum opt_kind kind;
	bool clear;    /* OPT_ATTR: clears the attribute instead of setting it */
	uint64_t attr; /* OPT_ATTR: MOUNT_ATTR_*; OPT_PROPAGATION: MS_*; OPT_BOOL: enum opt_bool */
};

/* Access-time modes are one field in mount_setattr: setting one means
 * clearing MOUNT_ATTR__ATIME first. The kernel's default is relatime, so
 * "atime", "norelatime" and "nostrictatime" all land there, as with mount(2). */
#define ATIME_MODE (1ULL << 63) /* marker: attr is an atime mode */

static const struct opt table[] = {
    {"ro", OPT_ATTR, false, MOUNT_ATTR_RDONLY},
    {"rw", OPT_ATTR, true, MOUNT_ATTR_RDONLY},
    {"nosuid", OPT_ATTR, false, MOUNT_ATTR_NOSUID},
    {"suid", OPT_ATTR, true, MOUNT_ATTR_NOSUID},
    {"nodev", OPT_ATTR, false, MOUNT_ATTR_NODEV},
    {"dev", OPT_ATTR, true, MOUNT_ATTR_NODEV},
    {"noexec", OPT_ATTR, false, MOUNT_ATTR_NOEXEC},
    {"exec", OPT_ATTR, true, MOUNT_ATTR_NOEXEC},
    {"nodiratime", OPT_ATTR, false, MOUNT_ATTR_NODIRATIME},
    {"diratime", OPT_ATTR, true, MOUNT_ATTR_NODIRATIME},
    {"nosymfollow", OPT_ATTR, false, MOUNT_ATTR_NOSYMFOLLOW},
    {"symfollow", OPT_ATTR, true, MOUNT_ATTR_NOSYMFOLLOW},
    {"noatime", OPT_ATTR, false, ATIME_MODE | MOUNT_ATTR_NOATIME},
    {"strictatime", OPT_ATTR, false, ATIME_MODE | MOUNT_ATTR_STRICTATIME},
    {"relatime", OPT_ATTR, false, ATIME_MODE | MOUNT_ATTR_RELATIME},
    {"atime", OPT_ATTR, false, ATIME_MODE | MOUNT_ATTR_RELATIME},
    {"norelatime", OPT_ATTR, false, ATIME_MODE | MOUNT_ATTR_RELATIME},
    {"nostrictatime", OPT_ATTR, false, ATIME_MODE | MOUNT_ATTR_RELATIME},

    {"sync", OPT_SB, false, 0},
    {"async", OPT_SB, false, 0},
    {"dirsync", OPT_SB, false, 0},
    {"mand", OPT_SB, false, 0},
    {"nomand", OPT_SB, false, 0},
    {"lazytime", OPT_SB, false, 0},
    {"nolazytime", OPT_SB, false, 0},

    {"bind", OPT_BOOL, false, B_BIND},
    {"rbind", OPT_BOOL, false, B_RBIND},
    {"remount", OPT_BOOL, false, B_REMOUNT},
    {"idmap", OPT_BOOL, false, B_IDMAP},
    {"ridmap", OPT_BOOL, false, B_RIDMAP},
    {"tmpcopyup", OPT_BOOL, false, B_TMPCOPYUP},

    {"defaults", OPT_IGNORE, false, 0},
    {"loud", OPT_IGNORE, false, 0},
};

int mount_propagation_parse(const char *name, unsigned long *ret_flag, bool *ret_rec)
{
	static const struct {
		const char *name;
		unsigned long flag;
	} props[] = {
	    {"shared", MS_SHARED},
	    {"slave", MS_SLAVE},
	    {"private", MS_PRIVATE},
	    {"unbindable", MS_UNBINDABLE},
	};
	bool rec = name[0] == 'r' && strcmp(name, "rw") != 0;
	const char *base = rec ? name + 1 : name;
	for (size_t i = 0; i < ARRAY_SIZE(props); i++) {
		if (strcmp(base, props[i].name) == 0) {
			*ret_flag = props[i].flag;
			*ret_rec = rec;
			return 0;
		}
	}
	return -EINVAL;
}

static int strv_push(char ***v, const char *s)
{
	size_t n = 0;
	if (*v)
		while ((*v)[n])
			n++;
	char **nv = realloc(*v, (n + 2) * sizeof(char *));
	if (nv == NULL)
		return -ENOMEM;
	*v = nv;
	nv[n] = strdup(s);
	nv[n + 1] = NULL;
	return nv[n] ? 0 : -ENOMEM;
}

static void apply_attr(uint64_t *set, uint64_t *clr, const struct opt *o)
{
	if (o->attr & ATIME_MODE) {
		*clr |= MOUNT_ATTR__ATIME;
		*set = (*set & ~(uint64_t)MOUNT_ATTR__ATIME) | (o->attr & ~ATIME_MODE);
	} else if (o->clear) {
		*clr |= o->attr;
		*set &= ~o->attr;
	} else {
		*set |= o->attr;
		*clr &= ~o->attr;
	}
}

static const struct opt *lookup(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

int mount_opts_parse(char *const *options, struct mount_opts *ret, struct vsl_error **err)
{
	struct mount_opts o = {0};
	int r = 0;

	for (char *const *i = options; i && *i; i++) {
		const char *name = *i;
		unsigned long prop;
		bool prec;
		if (mount_propagation_parse(name, &prop, &prec) == 0) {
			o.propagation = prop;
			o.propagation_rec = prec;
			continue;
		}
		const struct opt *opt = lookup(name);
		bool rec = false;
		/* "rro", "rnosuid", ...: the same attribute on the whole tree. */
		if (opt == NULL && name[0] == 'r' && (opt = lookup(name + 1)) != NULL) {
			if (opt->kind != OPT_ATTR)
				opt = NULL;
			rec = true;
		}
		if (opt == NULL) {
			r = strv_push(&o.data, name);
		} else if (opt->kind == OPT_ATTR) {
			if (rec)
				apply_attr(&o.rec_attr_set, &o.rec_attr_clr, opt);
			else
				apply_attr(&o.attr_set, &o.attr_clr, opt);
		} else if (opt->kind == OPT_SB) {
			r = strv_push(&o.sb_flags, name);
		} else if (opt->kind == OPT_BOOL) {
			switch ((enum opt_bool)opt->attr) {
			case B_BIND:
				o.bind = true;
				break;
			case B_RBIND:
				o.rbind = true;
				break;
			case B_REMOUNT:
				o.remount = true;
				break;
			case B_IDMAP:
				o.idmap = true;
				break;
			case B_RIDMAP:
				o.ridmap = true;
				break;
			case B_TMPCOPYUP:
				o.tmpcopyup = true;
				break;
			}
		}
		if (r < 0) {
			mount_opts_clear(&o);
			return vsl_error_errno(err, -r, "parse mount option '%s'", name);
		}
	}
	*ret = o;
	return 0;
}

void mount_opts_clear(struct mount_opts *o)
{
	strv_free(o->sb_flags);
	strv_free(o->data);
	*o = (struct mount_opts){0};
}

char *mount_opts_data_string(const struct mount_opts *o)
{
	size_t len = 1;
	for (char **i = o->data; i && *i; i++)
		len += strlen(*i) + 1;
	char *s = malloc(len);
	if (s == NULL)
		return NULL;
	size_t at = 0;
	for (char **i = o->data; i && *i; i++) {
		size_t n = strlen(*i);
		if (at)
			s[at++] = ',';
		memcpy(s + at, *i, n);
		at += n;
	}
	s[at] = '\0';
	return s;
}
