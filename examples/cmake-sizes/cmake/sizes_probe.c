/* Run by CMake's try_run (CMakeLists.txt): prints sizeof(long) and sizeof(void*). */
#include <stdio.h>

int main(void) {
    printf("%d %d\n", (int)sizeof(long), (int)sizeof(void *));
    return 0;
}
