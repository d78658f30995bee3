/* t_hostaddr.c - relay host syntax, as strict as an admin page's validation. */
#include "hostaddr.h"
#include "tap.h"

static const char *canon(const char *in)
{
    static char out[SH_MAX_HOST + 1];
    enum sh_host_kind k;
    const char *why;
    return sh_host_parse(in, out, &k, &why) ? out : NULL;
}

int main(void)
{
    char big[300];

    is_str(canon("192.0.2.1"), "192.0.2.1", "IPv4");
    is_str(canon("255.255.255.255"), "255.255.255.255", "IPv4 octet 255");
    ok(canon("256.1.1.1") == NULL, "IPv4 octet 256 refused");
    ok(canon("1.2.3") == NULL, "three octets refused (not taken for a name)");
    ok(canon("01.2.3.4") == NULL, "leading zero refused");
    ok(canon("1.2.3.4.5") == NULL, "five octets refused");
    is_str(canon("2001:DB8::1"), "2001:db8::1", "IPv6 canonical lowercase");
    is_str(canon("::1"), "::1", "IPv6 loopback");
    ok(canon("2001:db8::g") == NULL, "bad IPv6 refused");
    ok(canon("[192.0.2.1]") == NULL, "brackets refused");
    is_str(canon("SMTP.Mailgun.ORG"), "smtp.mailgun.org", "FQDN lowercased");
    is_str(canon("smtp.example.com."), "smtp.example.com", "absolute name accepted");
    is_str(canon("relay"), "relay", "single label accepted");
    ok(canon("-bad.example.com") == NULL, "label starting with hyphen refused");
    ok(canon("bad-.example.com") == NULL, "label ending with hyphen refused");
    ok(canon("a..b") == NULL, "empty label refused");
    ok(canon("under_score.example") == NULL, "underscore refused");
    ok(canon("smtp.example.com:587") == NULL, "port in host refused");
    ok(canon("") == NULL, "empty refused");
    memset(big, 'a', 64);
    strcpy(big + 64, ".example");
    ok(canon(big) == NULL, "64-character label refused");
    memset(big, 'a', 63);
    strcpy(big + 63, ".example");
    ok(canon(big) != NULL, "63-character label accepted");
    for (int i = 0; i < 260; i += 2)
        big[i] = 'a', big[i + 1] = '.';
    big[259] = 'a', big[260] = 0;
    ok(canon(big) == NULL, "name over 253 characters refused");
    ok(sh_domain_valid("example.com", 11), "domain");
    ok(!sh_domain_valid("example.com", 0), "empty domain");
    return done_testing();
}
