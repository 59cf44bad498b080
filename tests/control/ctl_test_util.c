#include "ctl_test_util.h"
