extension TimelineReport {
    private static let rowHeight = 24
    private static let labelWidth = 100
    private static let topMargin = 40

    /// The page, as one self-contained HTML document (inline CSS and SVG, no scripts).
    public func html() -> String {
        let (range, drawn) = visibleBars()
        let processes = Array(Set(drawn.map(\.process))).sorted()
        var row: [Int: Int] = [:]
        for (i, p) in processes.enumerated() { row[p] = i }
        let plotWidth = max(1_200, min(24_000, drawn.count * 14))
        let height = Self.topMargin + max(1, processes.count) * Self.rowHeight + 20
        let span = Double(max(1, range.upperBound - range.lowerBound))
        func x(_ t: Int64) -> Double {
            let clamped = min(max(t, range.lowerBound), range.upperBound)
            return Double(Self.labelWidth) + Double(clamped - range.lowerBound) / span * Double(plotWidth)
        }
        var svg = ""
        svg += "<svg xmlns='http://www.w3.org/2000/svg' width='\(Self.labelWidth + plotWidth + 20)' height='\(height)'>"
        for (i, p) in processes.enumerated() {
            let y = Self.topMargin + i * Self.rowHeight
            if i % 2 == 0 {
                svg += "<rect x='0' y='\(y)' width='\(Self.labelWidth + plotWidth + 20)' height='\(Self.rowHeight)' fill='#f6f6f6'/>"
            }
            svg += "<text x='6' y='\(y + 16)' class='proc'>process \(p)</text>"
        }
        for window in nemesis {
            let start = x(window.startTime)
            let end = x(window.stopTime ?? range.upperBound)
            guard end > start || window.startTime <= range.upperBound else { continue }
            svg += "<rect x='\(fmt(start))' y='\(Self.topMargin - 14)' width='\(fmt(max(2, end - start)))' height='\(height - Self.topMargin + 14)' class='nemesis'>"
            svg += "<title>\(escape(window.name)) \(window.startTime)–\(window.stopTime.map(String.init) ?? "end")\(window.detail.map { " " + escape($0.jsonText) } ?? "")</title></rect>"
            svg += "<text x='\(fmt(start + 2))' y='\(Self.topMargin - 4)' class='nemesis-label'>\(escape(window.name))</text>"
        }
        if let window {
            let start = x(window.lowerBound)
            let end = x(window.upperBound)
            svg += "<rect x='\(fmt(start - 3))' y='\(Self.topMargin - 2)' width='\(fmt(max(6, end - start + 6)))' height='\(height - Self.topMargin - 14)' class='window'><title>failing window \(window.lowerBound)–\(window.upperBound)</title></rect>"
        }
        for bar in drawn {
            svg += barSVG(bar, x: x, y: Self.topMargin + row[bar.process]! * Self.rowHeight + 4, rangeEnd: range.upperBound)
        }
        svg += "<text x='\(Self.labelWidth)' y='14' class='axis'>t = \(range.lowerBound)</text>"
        svg += "<text x='\(Self.labelWidth + plotWidth)' y='14' class='axis' text-anchor='end'>t = \(range.upperBound)</text>"
        svg += "</svg>"

        var page = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>\(escape(title))</title><style>"
        page += Self.css
        page += "</style></head><body><h1>\(escape(title))</h1><pre class='summary'>"
        page += summary.map(escape).joined(separator: "\n")
        if drawn.count < bars.count {
            page += "\n(\(drawn.count) of \(bars.count) operations drawn: those in and near the failing window)"
        }
        page += "</pre><div class='legend'>"
        page += "<span class='key ok'></span>ok <span class='key fail'></span>fail <span class='key info'></span>info (unknown outcome) "
        page += "<span class='key lin'></span>linearized (numbered in order) <span class='key stuck'></span>could not be placed "
        page += "<span class='key anomaly'></span>in an anomaly <span class='key nem'></span>nemesis window "
        page += "<span class='key win'></span>failing window</div>"
        page += "<div class='scroll'>\(svg)</div>"
        if !details.isEmpty {
            page += "<h2>Failure</h2><pre class='details'>" + details.map(escape).joined(separator: "\n") + "</pre>"
        }
        page += "</body></html>\n"
        return page
    }

    /// The time range to draw and the bars inside it, at most `timelineBarsMax`.
    private func visibleBars() -> (ClosedRange<Int64>, [Bar]) {
        let infinity = Operation<Int, Int>.returnTimeInfinity
        let finiteEnds = bars.map { $0.returnTime == infinity ? $0.callTime : $0.returnTime }
        let first = bars.map(\.callTime).min() ?? 0
        let last = max(finiteEnds.max() ?? 0, first + 1)
        var range = first...last
        if let window {
            let margin = max(1, (window.upperBound - window.lowerBound) / 2)
            range = max(first, window.lowerBound - margin)...min(last, max(window.upperBound + margin, window.lowerBound + 1))
        }
        var inside = bars.filter { $0.callTime <= range.upperBound && ($0.returnTime >= range.lowerBound) }
        if inside.count > HistoryCheckerLimits.timelineBarsMax {
            let center = window.map { $0.lowerBound / 2 + $0.upperBound / 2 } ?? range.lowerBound
            inside.sort { abs($0.callTime - center) < abs($1.callTime - center) }
            inside = Array(inside.prefix(HistoryCheckerLimits.timelineBarsMax))
            let lo = inside.map(\.callTime).min()!
            let hi = max(inside.map(\.callTime).max()!, lo + 1)
            range = lo...hi
        }
        return (range, inside)
    }

    private func barSVG(_ bar: Bar, x: (Int64) -> Double, y: Int, rangeEnd: Int64) -> String {
        let infinity = Operation<Int, Int>.returnTimeInfinity
        let start = x(bar.callTime)
        let end = x(bar.returnTime == infinity ? rangeEnd : bar.returnTime)
        let width = max(3, end - start)
        var classes = "bar " + bar.outcome.rawValue
        var badge = ""
        switch bar.mark {
        case .plain: break
        case .linearized(let n):
            classes += " lin"
            badge = "<text x='\(fmt(start + 1))' y='\(y - 1)' class='badge'>\(n)</text>"
        case .unplaceable:
            classes += " stuck"
            badge = "<text x='\(fmt(start + 1))' y='\(y - 1)' class='badge stuck-badge'>✗</text>"
        case .anomaly: classes += " anomaly"
        }
        let returnText = bar.returnTime == infinity ? "+inf" : String(bar.returnTime)
        var out = "<g><rect x='\(fmt(start))' y='\(y)' width='\(fmt(width))' height='\(Self.rowHeight - 8)' rx='3' class='\(classes)'/>"
        if width > 40 {
            let characters = Int(width / 6.5)
            let text = bar.label.count > characters ? String(bar.label.prefix(max(1, characters - 1))) + "…" : bar.label
            out += "<text x='\(fmt(start + 3))' y='\(y + 12)' class='label'>\(escape(text))</text>"
        }
        out += badge
        out += "<title>process \(bar.process) [\(bar.callTime), \(returnText)] \(escape(bar.label))</title></g>"
        return out
    }

    private func fmt(_ v: Double) -> String {
        String(Double(Int((v * 10).rounded())) / 10)
    }

    private func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "'": out += "&#39;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    private static let css = """
        body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:16px;color:#222}
        h1{font-size:18px} h2{font-size:16px} pre{background:#fafafa;border:1px solid #ddd;padding:8px;font-size:12px}
        .scroll{overflow-x:auto;border:1px solid #ccc} svg{font-size:11px}
        .proc{font-size:11px;fill:#555} .axis{font-size:10px;fill:#777} .label{font-size:10px;fill:#111;pointer-events:none}
        .bar.ok{fill:#a8d5a2} .bar.fail{fill:#d0d0d0} .bar.info{fill:#ffd59e;stroke:#e69500;stroke-dasharray:4 2}
        .bar.lin{stroke:#1f5fbf;stroke-width:2} .bar.stuck{fill:#ff6b6b;stroke:#a00;stroke-width:2}
        .bar.anomaly{stroke:#d00;stroke-width:2.5}
        .badge{font-size:9px;fill:#1f5fbf;font-weight:bold} .stuck-badge{fill:#a00}
        .nemesis{fill:rgba(255,180,0,0.16)} .nemesis-label{font-size:10px;fill:#b36b00}
        .window{fill:rgba(255,0,0,0.06);stroke:#d00;stroke-width:1.5;stroke-dasharray:6 3}
        .legend{font-size:12px;margin:8px 0} .key{display:inline-block;width:14px;height:10px;margin:0 4px 0 10px;border:1px solid #888}
        .key.ok{background:#a8d5a2} .key.fail{background:#d0d0d0} .key.info{background:#ffd59e}
        .key.lin{border:2px solid #1f5fbf} .key.stuck{background:#ff6b6b} .key.anomaly{border:2px solid #d00}
        .key.nem{background:rgba(255,180,0,0.3)} .key.win{border:1.5px dashed #d00}
        """
}
