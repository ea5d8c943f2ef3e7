import Foundation
import Testing

/// samples/lifecycle.sh runs apply → inspect → audit → diff → continue → revert on the shipped
/// samples and checks (cmp) that the result is the original; the committed LoRA adapter is in
/// PEFT's layout.
@Suite("Samples") struct SamplesTests {
    @Test("samples/lifecycle.sh succeeds and gives back both originals byte for byte")
    func lifecycle() throws {
        let bin = URL(fileURLWithPath: try ReportTest.binary("prune-apply")).deletingLastPathComponent().path
        var env = ProcessInfo.processInfo.environment
        env["PRUNE_BIN"] = bin
        let r = try ReportTest.run("/bin/bash", ["samples/lifecycle.sh"], environment: env)
        #expect(r.status == 0, "lifecycle failed: \(r.stdout.suffix(2000)) \(r.stderr.suffix(2000))")
        #expect(r.stdout.contains("lifecycle: OK"))
        // The steps really ran: the audit said EDITED, the diff found the rank-2 edit.
        #expect(r.stdout.contains("EDITED"))
        #expect(r.stdout.contains("transformer.h.1.mlp.c_proj.weight  F32    [1024,256]  2 "))
    }

    @Test("the sample LoRA adapter is what make_lora.py writes, in PEFT's layout")
    func loraAdapter() throws {
        let root = ReportTest.packageRoot.path
        let r = try ReportTest.run("/usr/bin/env", ["python3", "-c", """
            import json, sys
            from safetensors.numpy import load_file
            t = load_file('\(root)/samples/lora/adapter_model.safetensors')
            c = json.load(open('\(root)/samples/lora/adapter_config.json'))
            assert c['peft_type'] == 'LORA' and c['fan_in_fan_out'] is True and c['r'] == 4, c
            for k, v in t.items():
                assert k.startswith('base_model.model.transformer.h.') and (k.endswith('.lora_A.weight') or k.endswith('.lora_B.weight')), k
                assert (v.shape[0] == 4) if 'lora_A' in k else (v.shape[1] == 4), (k, v.shape)
            print(len(t))
            """])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "8")
    }
}
