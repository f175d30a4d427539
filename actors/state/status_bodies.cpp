#include "actors/state/status_bodies.hpp"

#include <fmt/format.h>

#include "actors/common/json_writer.hpp"

namespace epmpulse {

namespace {

// Members in name order, as the bodies were when nlohmann::json wrote them.
void write_domain(json_writer& out, const domain_state& d, const expectation_mark* mark) {
  out.begin_object()
    .key("duration_sec").value(d.duration_sec);
  if (mark != nullptr) {
    out.key("expectation").begin_object().key("state").value(mark->state);
    out.key("next_run").value(format_time(mark->next_run));
    if (!mark->cause.empty())
      out.key("cause").value(mark->cause);
    out.end_object();
  }
  out.key("job_id").value(d.job_id)
    .key("message").value(d.message)
    .key("source").value(to_string(d.source))
    .key("status").value(to_string(d.status))
    .key("updated").value(format_time(d.updated))
    .end_object();
}

void write_last_updated(json_writer& out, const status_snapshot& snap) {
  out.key("last_updated").value(format_time(snap.last_updated));
}

// Room for one domain's object, so a body is written without regrowing.
constexpr std::size_t bytes_per_domain = 160;

} // namespace

status_bodies::status_bodies(std::uint64_t instance) : instance_(fmt::format("{:x}", instance)) {}

void status_bodies::write_domains(json_writer& out, const std::string& app_name,
                                  const app_state& app) {
  auto& texts = domain_texts_[app_name];
  // Both maps are in name order: walk them together.
  auto text = texts.begin();
  out.begin_object();
  for (const auto& [name, d] : app.domains) {
    while (text != texts.end() && text->first < name)
      text = texts.erase(text);
    const expectation_mark* mark = mark_of(app_name, name);
    bool found = text != texts.end() && text->first == name;
    if (found && text->second.shown == d
        && (mark == nullptr ? !text->second.mark : text->second.mark == *mark)) {
      out.raw_member(text->second.member);
      ++text;
      continue;
    }
    if (!found)
      text = texts.emplace_hint(text, name, domain_text{});
    // Written aside, then kept with the state it shows: a half-written text
    // must never be cached as that state's.
    std::string member;
    json_writer writer{member};
    writer.escaped_key(name);
    write_domain(writer, d, mark);
    text->second = {d, mark ? std::optional{*mark} : std::nullopt, std::move(member)};
    out.raw_member(text->second.member);
    ++text;
  }
  texts.erase(text, texts.end());
  out.end_object();
}

template <class Serialise>
status_representation status_bodies::serve(cached& slot, std::uint64_t version, Serialise&& make) {
  if (!slot.json || slot.version != version || slot.marks_generation != marks_generation_) {
    auto text = std::make_shared<std::string>();
    make(*text);
    auto etag = marks_generation_ == 0
                  ? fmt::format("\"{}-{}\"", instance_, version)
                  : fmt::format("\"{}-{}.{}\"", instance_, version, marks_generation_);
    slot = {version, marks_generation_, std::move(text), std::move(etag)};
  }
  return {slot.json, slot.etag, false};
}

void status_bodies::set_expectations(expectation_marks marks) {
  marks_ = std::move(marks);
  ++marks_generation_;
}

const expectation_mark* status_bodies::mark_of(const std::string& app,
                                               const std::string& domain) const {
  if (!marks_)
    return nullptr;
  auto a = marks_->find(app);
  if (a == marks_->end())
    return nullptr;
  auto d = a->second.find(domain);
  return d == a->second.end() ? nullptr : &d->second;
}

status_representation status_bodies::all(const status_snapshot& snap, std::uint64_t version) {
  return serve(all_, version, [this, &snap](std::string& text) {
    std::size_t domains = 0;
    for (const auto& [name, app] : snap.apps)
      domains += app.domains.size();
    text.reserve(64 + domains * bytes_per_domain);
    json_writer out{text};
    out.begin_object().key("apps").begin_object();
    for (const auto& [name, app] : snap.apps) {
      out.escaped_key(name);
      write_domains(out, name, app);
    }
    out.end_object();
    write_last_updated(out, snap);
    out.end_object();
  });
}

status_representation status_bodies::app(const status_snapshot& snap, std::uint64_t version,
                                          const std::string& name) {
  auto it = snap.apps.find(name);
  if (it == snap.apps.end())
    return {};
  const app_state& app = it->second;
  return serve(apps_.try_emplace(name).first->second, version, [&](std::string& text) {
    text.reserve(128 + app.domains.size() * bytes_per_domain);
    json_writer out{text};
    out.begin_object()
      .key("app").value(name)
      .key("display_name").value(app.display_name)
      .key("domains");
    write_domains(out, name, app);
    write_last_updated(out, snap);
    out.end_object();
  });
}

} // namespace epmpulse
