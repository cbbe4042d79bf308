# The cgroups unit tests (tests/unit/cgroups), linked statically: on this
# host their real-v2 test runs against the only cgroup tree there is, with
# every controller in it.
if [ ! -x /guest/vm_cgroups_test ]; then
    skip "cgroups unit tests" "vm_cgroups_test was not built"
    return 0
fi
/guest/vm_cgroups_test >/tmp/unit.out 2>&1
status=$?
passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\{0,1\}\.$/\1/p' /tmp/unit.out)
# The names of the skipped, each once: a v2-only host has no v1 to test.
skipped=$(sed -n 's/^\[  SKIPPED \] \([A-Za-z0-9_]*\.[A-Za-z0-9_]*\).*/\1/p' /tmp/unit.out | sort -u | tr '\n' ' ')
summary="${passed:-0} passed, skipped: ${skipped:-none}"
if [ $status = 0 ]; then pass "cgroups unit tests: $summary"; else
    fail "cgroups unit tests" "exit $status: $(grep -E 'FAILED|Failure|error' /tmp/unit.out | head -20 | tr '\n' ' ')"
fi
