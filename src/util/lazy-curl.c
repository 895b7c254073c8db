/* libcurl, loaded on the first call (see util/lazylib.h): only pull, push and
 * login talk to a registry. */
#define CURL_DISABLE_TYPECHECK /* the typecheck macros would rename our definitions */
#include <curl/curl.h>
#include <stdarg.h>

#include "util/lazylib.h"

/* libcurl's ABI has been .so.4 since 2006. */
static struct lazylib curl = LAZYLIB_INIT("libcurl.so.4");

LAZYLIB_FORWARD(curl, CURLcode, curl_global_init, (long flags), (flags))
LAZYLIB_FORWARD(curl, CURL *, curl_easy_init, (void), ())
LAZYLIB_FORWARD(curl, CURLcode, curl_easy_perform, (CURL * c), (c))
LAZYLIB_FORWARD_VOID(curl, curl_easy_cleanup, (CURL * c), (c))
LAZYLIB_FORWARD(curl, const char *, curl_easy_strerror, (CURLcode code), (code))
LAZYLIB_FORWARD(curl, char *, curl_easy_escape, (CURL * c, const char *s, int length), (c, s, length))
LAZYLIB_FORWARD(curl, CURLHcode, curl_easy_header,
                (CURL * c, const char *name, size_t index, unsigned int origin, int request,
                 struct curl_header **hout),
                (c, name, index, origin, request, hout))
LAZYLIB_FORWARD_VOID(curl, curl_free, (void *p), (p))
LAZYLIB_FORWARD(curl, time_t, curl_getdate, (const char *p, const time_t *unused), (p, unused))
LAZYLIB_FORWARD(curl, struct curl_slist *, curl_slist_append, (struct curl_slist * l, const char *s), (l, s))
LAZYLIB_FORWARD_VOID(curl, curl_slist_free_all, (struct curl_slist * l), (l))
LAZYLIB_FORWARD(curl, CURLSH *, curl_share_init, (void), ())
LAZYLIB_FORWARD(curl, CURLSHcode, curl_share_cleanup, (CURLSH * s), (s))
LAZYLIB_FORWARD(curl, CURLU *, curl_url, (void), ())
LAZYLIB_FORWARD_VOID(curl, curl_url_cleanup, (CURLU * u), (u))
LAZYLIB_FORWARD(curl, CURLUcode, curl_url_get, (CURLU * u, CURLUPart what, char **part, unsigned int flags),
                (u, what, part, flags))
LAZYLIB_FORWARD(curl, CURLUcode, curl_url_set,
                (CURLU * u, CURLUPart what, const char *part, unsigned int flags), (u, what, part, flags))

/* The variadic three pass on their one argument with the type libcurl reads for
 * the option: the option's number says which. */

CURLcode curl_easy_setopt(CURL *c, CURLoption option, ...)
{
	static CURLcode (*real)(CURL *, CURLoption, ...);
	CURLcode (*f)(CURL *, CURLoption, ...) = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
	if (f == NULL) {
		f = (CURLcode(*)(CURL *, CURLoption, ...))lazylib_sym(&curl, "curl_easy_setopt");
		__atomic_store_n(&real, f, __ATOMIC_RELEASE);
	}
	va_list ap;
	va_start(ap, option);
	CURLcode r;
	if (option < CURLOPTTYPE_OBJECTPOINT)
		r = f(c, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT)
		r = f(c, option, va_arg(ap, void *));
	else if (option < CURLOPTTYPE_OFF_T)
		r = f(c, option, va_arg(ap, void (*)(void)));
	else if (option < CURLOPTTYPE_BLOB)
		r = f(c, option, va_arg(ap, curl_off_t));
	else
		r = f(c, option, va_arg(ap, void *));
	va_end(ap);
	return r;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *c, CURLINFO info, ...)
{
	static CURLcode (*real)(CURL *, CURLINFO, ...);
	CURLcode (*f)(CURL *, CURLINFO, ...) = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
	if (f == NULL) {
		f = (CURLcode(*)(CURL *, CURLINFO, ...))lazylib_sym(&curl, "curl_easy_getinfo");
		__atomic_store_n(&real, f, __ATOMIC_RELEASE);
	}
	va_list ap;
	va_start(ap, info);
	void *out = va_arg(ap, void *);
	va_end(ap);
	return f(c, info, out);
}

CURLSHcode curl_share_setopt(CURLSH *s, CURLSHoption option, ...)
{
	static CURLSHcode (*real)(CURLSH *, CURLSHoption, ...);
	CURLSHcode (*f)(CURLSH *, CURLSHoption, ...) = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
	if (f == NULL) {
		f = (CURLSHcode(*)(CURLSH *, CURLSHoption, ...))lazylib_sym(&curl, "curl_share_setopt");
		__atomic_store_n(&real, f, __ATOMIC_RELEASE);
	}
	va_list ap;
	va_start(ap, option);
	CURLSHcode r;
	switch (option) {
	case CURLSHOPT_SHARE:
	case CURLSHOPT_UNSHARE:
		r = f(s, option, va_arg(ap, int));
		break;
	case CURLSHOPT_LOCKFUNC:
	case CURLSHOPT_UNLOCKFUNC:
		r = f(s, option, va_arg(ap, void (*)(void)));
		break;
	default:
		r = f(s, option, va_arg(ap, void *));
		break;
	}
	va_end(ap);
	return r;
}
