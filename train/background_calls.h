// What a model with a background output ("nothing here", models/common/label_set.h) answers on
// clips that all hold a sound: how often it says nothing is there, and how often its most probable
// of the other classes is right. Computed by evaluation.h (background_calls), shown by eval's JSON
// and console and by the compare page. No torch here: comparison.h includes it.
#pragma once

#include <nlohmann/json.hpp>

namespace escd::train {

struct BackgroundCalls {
  double called_background = 0;  // share of clips whose top-1 is background: sounds escd would miss
  double event_accuracy = 0;     // ESC-50's closed-set accuracy with the background output kept out

  nlohmann::json to_json() const {
    return {{"called_background", called_background}, {"event_accuracy", event_accuracy}};
  }
};

}  // namespace escd::train
