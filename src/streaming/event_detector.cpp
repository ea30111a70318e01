#include "streaming/event_detector.h"

#include <algorithm>

#include "models/common/label_set.h"

namespace escd {

EventDetector::EventDetector(EventConfig config, std::vector<std::string> class_names)
    : config_(std::move(config)),
      names_(std::move(class_names)),
      background_(background_index(names_)),
      state_(names_.size()) {}

bool EventDetector::is_background(const std::vector<float>& probabilities) const {
  if (!background_ || *background_ >= probabilities.size()) return false;
  const float p = probabilities[*background_];
  return p >= config_.background_threshold ||
         std::max_element(probabilities.begin(), probabilities.end()) - probabilities.begin() ==
             static_cast<std::ptrdiff_t>(*background_);
}

bool EventDetector::eligible(int c) const {
  if (background_ && static_cast<size_t>(c) == *background_) return false;  // "nothing here" is no event
  const std::string& name = names_[c];
  if (config_.exclude.count(name)) return false;
  return config_.include.empty() || config_.include.count(name) > 0;
}

double EventDetector::on_threshold(int c) const {
  const auto it = config_.class_thresholds.find(names_[c]);
  return it != config_.class_thresholds.end() ? it->second : config_.threshold;
}

DetectionEvent EventDetector::end_event(int c, double t) {
  ClassState& s = state_[c];
  DetectionEvent e{DetectionEvent::Kind::kEnd, c, names_[c], t, s.peak, s.started_at};
  s = ClassState{};
  return e;
}

std::vector<DetectionEvent> EventDetector::update(const std::vector<float>& probabilities, double t) {
  std::vector<DetectionEvent> events;
  const int n = static_cast<int>(std::min(probabilities.size(), state_.size()));
  const bool background = is_background(probabilities);
  for (int c = 0; c < n; ++c) {
    if (!eligible(c)) continue;
    ClassState& s = state_[c];
    const double p = probabilities[c];
    const double on = on_threshold(c), off = on - config_.off_margin;
    if (!s.open) {
      s.hits = p >= on && !background ? s.hits + 1 : 0;
      if (s.hits >= config_.min_hits) {
        s.open = true;
        s.started_at = t;
        s.peak = p;
        s.below_since = -1;
        events.push_back({DetectionEvent::Kind::kStart, c, names_[c], t, p, t});
      }
      continue;
    }
    s.peak = std::max(s.peak, p);
    if (p >= off) {
      s.below_since = -1;
    } else if (s.below_since < 0) {
      s.below_since = t;
    }
    if (s.below_since >= 0 && t - s.below_since >= config_.hold_seconds) events.push_back(end_event(c, t));
  }
  return events;
}

std::vector<DetectionEvent> EventDetector::finish(double t) {
  std::vector<DetectionEvent> events;
  for (int c = 0; c < static_cast<int>(state_.size()); ++c) {
    if (state_[c].open) events.push_back(end_event(c, t));
    state_[c] = ClassState{};
  }
  return events;
}

std::vector<DetectionEvent> EventDetector::reconfigure(EventConfig config, double t) {
  config_ = std::move(config);
  std::vector<DetectionEvent> events;
  for (int c = 0; c < static_cast<int>(state_.size()); ++c) {
    if (!eligible(c)) {
      if (state_[c].open) events.push_back(end_event(c, t));
      state_[c] = ClassState{};
    }
  }
  return events;
}

size_t EventDetector::open_events() const {
  return static_cast<size_t>(std::count_if(state_.begin(), state_.end(), [](const ClassState& s) { return s.open; }));
}

}  // namespace escd
