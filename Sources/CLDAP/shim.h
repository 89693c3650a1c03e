#include <ldap.h>
#include <sys/time.h>
// ldap_set_option takes `const void *` whose meaning depends on the option, and simple bind needs
// LDAP_SASL_SIMPLE (a cast macro Swift cannot import); these typed wrappers are the only way
// VigilLDAP reaches them.
static inline int vigil_ldap_set_int(LDAP *ld, int option, int value) { return ldap_set_option(ld, option, &value); }
static inline int vigil_ldap_set_string(LDAP *ld, int option, const char *value) { return ldap_set_option(ld, option, value); }
static inline int vigil_ldap_set_timeout(LDAP *ld, int option, long seconds) {
    struct timeval tv = { seconds, 0 };
    return ldap_set_option(ld, option, &tv);
}
static inline int vigil_ldap_simple_bind(LDAP *ld, const char *dn, const char *password, size_t length) {
    struct berval cred = { (ber_len_t)length, (char *)password };
    return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
}
static inline char *vigil_ldap_diagnostic(LDAP *ld) {
    char *msg = NULL;
    ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg);
    return msg;
}
