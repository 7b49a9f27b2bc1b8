// hosm/train/progress_sink.hpp — where a training run's live progress line goes.
//
//   train::progress_sink::standard_error()   the default: std::FILE* stderr
//   train::progress_sink::file(fp)           any C stream (stdout, a log file)
//   train::progress_sink::stream(os)         any std::ostream (std::cout, an
//                                            std::ostringstream in a test)
//   train::progress_sink::none()             no output
//
// The sink does not own what it points at; the file or stream must outlive
// the run. write(text) sends text and flushes, so a line redrawn with '\r'
// shows at once.
#pragma once
#include <cstdio>
#include <ostream>
#include <string>

namespace hosm::train {

class progress_sink {
public:
    static progress_sink none() { return {}; }
    static progress_sink standard_error() { return file(stderr); }
    static progress_sink file(std::FILE* f) {
        progress_sink s;
        s.file_ = f;
        return s;
    }
    static progress_sink stream(std::ostream& os) {
        progress_sink s;
        s.stream_ = &os;
        return s;
    }

    bool enabled() const { return file_ != nullptr || stream_ != nullptr; }

    void write(const std::string& text) const {
        if (stream_) {
            *stream_ << text;
            stream_->flush();
        } else if (file_) {
            std::fputs(text.c_str(), file_);
            std::fflush(file_);
        }
    }

private:
    std::FILE* file_ = nullptr;
    std::ostream* stream_ = nullptr;
};

}  // namespace hosm::train
