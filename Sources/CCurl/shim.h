#include <curl/curl.h>
// curl_easy_setopt and curl_easy_getinfo are variadic macros-over-functions Swift cannot call;
// these typed wrappers are the only way VigilHTTP reaches them.
static inline CURLcode vigil_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode vigil_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode vigil_curl_setopt_str(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode vigil_curl_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode vigil_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*vigil_curl_data_cb)(char *, size_t, size_t, void *);
static inline CURLcode vigil_curl_setopt_cb(CURL *h, CURLoption o, vigil_curl_data_cb v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode vigil_curl_response_code(CURL *h, long *code) { return curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code); }
