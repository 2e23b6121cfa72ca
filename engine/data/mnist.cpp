// placeholder until the loader lands
#include "engine/data/mnist.h"
