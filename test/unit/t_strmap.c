/* t_strmap.c - the hash map behind every index. */
#include <stdint.h>
#include <stdio.h>

#include "strmap.h"
#include "tap.h"

int main(void)
{
    struct strmap *m = strmap_new(0);
    static int vals[20000];
    char key[64];
    int bad = 0;

    ok(strmap_get(m, "x", 1) == NULL, "empty map finds nothing");
    ok(strmap_put(m, "a", &vals[0]) == NULL, "first put is new");
    ok(strmap_put(m, "a", &vals[1]) == &vals[0], "second put returns the existing value");
    ok(strmap_get(m, "a", 1) == &vals[0], "existing value kept");
    ok(strmap_update(m, "a", &vals[2]) && strmap_get(m, "a", 1) == &vals[2], "update replaces");
    ok(!strmap_update(m, "b", &vals[2]), "update of an absent key fails");
    ok(strmap_get(m, "ab", 1) == &vals[2], "length-bounded key (not NUL-terminated)");
    /* Keys sharing long prefixes, as user@domain and @domain keys do, past several grows. */
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "user%05d@a-very-long-shared-domain.example", i);
        if (strmap_put(m, key, &vals[i]) != NULL)
            bad++;
    }
    ok(bad == 0, "20000 distinct keys inserted");
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "user%05d@a-very-long-shared-domain.example", i);
        if (strmap_get(m, key, strlen(key)) != &vals[i])
            bad++;
    }
    ok(bad == 0, "all 20000 found after growing");
    ok(strmap_count(m) == 20001, "count");
    ok(strmap_get(m, "user00001@a-very-long-shared-domain.exampl", 42) == NULL,
       "prefix is no match");
    strmap_free(m);
    strmap_free(NULL);
    return done_testing();
}
