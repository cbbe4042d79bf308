// Convenience header: everything integration tests need from berth_test.
#pragma once

#include "berth_test/berth_cli.hpp"
#include "berth_test/bundle.hpp"
#include "berth_test/cgroup_parent.hpp"
#include "berth_test/children.hpp"
#include "berth_test/default_config.hpp"
#include "berth_test/loopback_server.hpp"
#include "berth_test/probe.hpp"
#include "berth_test/run_command.hpp"
#include "berth_test/temp_dir.hpp"
#include "berth_test/text.hpp"
