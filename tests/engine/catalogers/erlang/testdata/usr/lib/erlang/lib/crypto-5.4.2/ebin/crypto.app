%% Shaped like an OTP application resource file (reference: erlang.org/doc/man/app.html)
{application, crypto,
   [{description, "CRYPTO"},
    {vsn, "5.4.2"},
    {modules, [crypto, crypto_ec_curves]},
    {registered, []},
    {applications, [kernel, stdlib]},
    {env, [{fips_mode, false}, {rand_cache_size, 896}]},
    {runtime_dependencies, ["erts-9.0","stdlib-3.4","kernel-5.3"]}]}.
