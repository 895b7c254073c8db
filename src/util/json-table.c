/* Being written; see the commit that fills it. */
