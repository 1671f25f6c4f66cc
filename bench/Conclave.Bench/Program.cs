using Conclave.Bench;

// conclave-bench run [--smoke] [--out DIR] [--only 1,6] [--postgres CONN [--redis HOST:PORT]] [--setting KEY=VALUE ...]
//                                                          every scenario (or those named), Conclave beside the baseline
//                                                          (and on PostgreSQL too, alone or as an instance of several;
//                                                          and in 2 and 4, Conclave with the settings given too)
// conclave-bench serve-conclave --port P --data DIR --delay MS [--memory-store] [--postgres CONN [--redis HOST:PORT]]
// conclave-bench serve-baseline --port P --delay MS
BenchArgs options;
try
{
    options = BenchArgs.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine(ex.Message);
    return Usage();
}

return options.Command switch
{
    "serve-conclave" => await Servers.ServeConclaveAsync(options),
    "serve-baseline" => await Servers.ServeBaselineAsync(options),
    "run" => await BenchRun.RunAsync(options),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Conclave.Bench run [--smoke] [--out DIR] [--only 1,6] [--postgres CONN [--redis HOST:PORT]] [--setting KEY=VALUE ...] | serve-conclave --port P --data DIR --delay MS [--memory-store] [--postgres CONN [--redis HOST:PORT]] | serve-baseline --port P --delay MS");
    return 2;
}
